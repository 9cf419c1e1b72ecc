/**
 * The queries the panel reads, by refId (the provisioned dashboard sets them). Each is an instant
 * Prometheus query on a series of mailsync's metric contract (docs/metrics.md). No imports: the
 * dashboards and the fixture recorder read this list too.
 */
export const QUERIES = {
  health: 'mailsync_mailbox_health == 1',
  info: 'mailsync_mailbox_info',
  enabled: 'mailsync_mailbox_enabled',
  disabled: 'mailsync_mailbox_disabled',
  failures: 'mailsync_mailbox_consecutive_failures',
  success: 'mailsync_mailbox_last_success_timestamp_seconds',
  error: 'mailsync_mailbox_last_error_timestamp_seconds',
  test: 'mailsync_mailbox_test_started_timestamp_seconds',
  // Item-level failures per mailbox, direction and code (store-backed): the records view lists them.
  items: 'mailsync_mailbox_items_failed_total > 0',
} as const;
export type QueryRef = keyof typeof QUERIES;
