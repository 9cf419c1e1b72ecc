/**
 * Every metric family mailsync serves, in one table: name, type, help, label names (in the order
 * they are written) and who produces the samples. The prom-client registrations and the per-mailbox
 * text writer both take these from here, so no family is described in two places; a test holds
 * this table, docs/metrics.md (the contract) and a real scrape to each other.
 */

/**
 * Who writes a family's samples:
 * - `process`: prom-client, counted or set in this process (cycles, config loads, the scheduler);
 * - `store`: prom-client `collect()`, from the per-profile aggregates of the scrape's store read;
 * - `text`: written per mailbox as text (mailbox-text.ts; kept until the mailbox changes,
 *   mailbox-cache.ts) from the same read: ~10 series per mailbox, too many for prom-client's
 *   per-series objects (docs/decisions.md, docs/performance.md);
 * - `runtime`: prom-client's standard process and Node.js metrics (`collectDefaultMetrics`), the
 *   ones every exporter serves; the name, type and labels here are prom-client's own.
 */
export type Producer = 'process' | 'store' | 'text' | 'runtime';

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  producer: Producer;
}

const DIRECTION_PROFILE = ['direction', 'profile'] as const;
const MAILBOX_DIRECTION = ['mailbox', 'direction'] as const;

export const FAMILIES = [
  // The process and the Node.js runtime: prom-client's collectDefaultMetrics, less the three
  // `nodejs_active_*_total` gauges, which `promtool check metrics` rejects (a gauge named _total).
  { name: 'process_cpu_user_seconds_total', type: 'counter', producer: 'runtime', labels: [],
    help: 'Total user CPU time spent in seconds.' },
  { name: 'process_cpu_system_seconds_total', type: 'counter', producer: 'runtime', labels: [],
    help: 'Total system CPU time spent in seconds.' },
  { name: 'process_cpu_seconds_total', type: 'counter', producer: 'runtime', labels: [],
    help: 'Total user and system CPU time spent in seconds.' },
  { name: 'process_start_time_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Start time of the process since unix epoch in seconds.' },
  { name: 'process_resident_memory_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Resident memory size in bytes.' },
  { name: 'process_virtual_memory_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Virtual memory size in bytes.' },
  { name: 'process_heap_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Process heap size in bytes.' },
  { name: 'process_open_fds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Number of open file descriptors.' },
  { name: 'process_max_fds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Maximum number of open file descriptors.' },
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Lag of event loop in seconds.' },
  { name: 'nodejs_eventloop_lag_min_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The minimum recorded event loop delay.' },
  { name: 'nodejs_eventloop_lag_max_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The maximum recorded event loop delay.' },
  { name: 'nodejs_eventloop_lag_mean_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The mean of the recorded event loop delays.' },
  { name: 'nodejs_eventloop_lag_stddev_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The standard deviation of the recorded event loop delays.' },
  { name: 'nodejs_eventloop_lag_p50_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The 50th percentile of the recorded event loop delays.' },
  { name: 'nodejs_eventloop_lag_p90_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The 90th percentile of the recorded event loop delays.' },
  { name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', producer: 'runtime', labels: [],
    help: 'The 99th percentile of the recorded event loop delays.' },
  { name: 'nodejs_active_resources', type: 'gauge', producer: 'runtime', labels: ['type'],
    help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.' },
  { name: 'nodejs_active_handles', type: 'gauge', producer: 'runtime', labels: ['type'],
    help: 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.' },
  { name: 'nodejs_active_requests', type: 'gauge', producer: 'runtime', labels: ['type'],
    help: 'Number of active libuv requests grouped by request type. Every request type is C++ class name.' },
  { name: 'nodejs_heap_size_total_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Process heap size from Node.js in bytes.' },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Process heap size used from Node.js in bytes.' },
  { name: 'nodejs_external_memory_bytes', type: 'gauge', producer: 'runtime', labels: [],
    help: 'Node.js external memory size in bytes.' },
  { name: 'nodejs_heap_space_size_total_bytes', type: 'gauge', producer: 'runtime', labels: ['space'],
    help: 'Process heap space size total from Node.js in bytes.' },
  { name: 'nodejs_heap_space_size_used_bytes', type: 'gauge', producer: 'runtime', labels: ['space'],
    help: 'Process heap space size used from Node.js in bytes.' },
  { name: 'nodejs_heap_space_size_available_bytes', type: 'gauge', producer: 'runtime', labels: ['space'],
    help: 'Process heap space size available from Node.js in bytes.' },
  { name: 'nodejs_version_info', type: 'gauge', producer: 'runtime', labels: ['version', 'major', 'minor', 'patch'],
    help: 'Node.js version info.' },
  { name: 'nodejs_gc_duration_seconds', type: 'histogram', producer: 'runtime', labels: ['kind'],
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.' },

  // Activity of this process: counted as cycles finish, by direction and profile (never by mailbox).
  { name: 'mailsync_sync_runs_total', type: 'counter', producer: 'process', labels: ['direction', 'profile', 'result'],
    help: 'Sync runs finished in this process, by direction, profile and result (success, failure, aborted).' },
  { name: 'mailsync_sync_retries_total', type: 'counter', producer: 'process', labels: DIRECTION_PROFILE,
    help: 'Runs started after a failed one (retry attempts), by direction and profile.' },
  { name: 'mailsync_sync_errors_total', type: 'counter', producer: 'process', labels: ['direction', 'profile', 'class', 'scope', 'code'],
    help: 'Failed runs by direction, profile, class, scope and taxonomy code.' },
  { name: 'mailsync_items_processed_total', type: 'counter', producer: 'process', labels: DIRECTION_PROFILE,
    help: 'Messages handled by sync runs (stored, already stored, or failed as an item).' },
  { name: 'mailsync_emails_stored_total', type: 'counter', producer: 'process', labels: DIRECTION_PROFILE,
    help: 'Emails stored for the first time (a message already stored for the mailbox is not counted again).' },
  { name: 'mailsync_items_failed_total', type: 'counter', producer: 'process', labels: ['direction', 'profile', 'code'],
    help: 'Item-level failures (one message failed, the mailbox kept going), by code.' },
  { name: 'mailsync_sync_duration_seconds', type: 'histogram', producer: 'process', labels: DIRECTION_PROFILE,
    help: 'Duration of sync runs, by direction and profile.' },
  // G: how long new mail waits (IMAP IDLE or the poll), from the server's INTERNALDATE to the commit.
  { name: 'mailsync_sync_lag_seconds', type: 'histogram', producer: 'process', labels: ['profile'],
    help: 'Seconds from a new message\'s arrival at the server (INTERNALDATE) to its commit in the store, by profile.' },

  // The exporter itself.
  { name: 'mailsync_build_info', type: 'gauge', producer: 'process', labels: ['version', 'nodejs_version'],
    help: 'Always 1; the labels say which mailsync and Node.js are running.' },
  { name: 'mailsync_scheduler_in_flight', type: 'gauge', producer: 'process', labels: [],
    help: 'Sync runs in progress now.' },
  { name: 'mailsync_scheduler_queue_depth', type: 'gauge', producer: 'process', labels: [],
    help: 'Sync runs that are due but wait for a free slot.' },
  { name: 'mailsync_mailboxes_configured', type: 'gauge', producer: 'process', labels: [],
    help: 'Mailboxes in the loaded config.' },
  { name: 'mailsync_config_last_reload_successful', type: 'gauge', producer: 'process', labels: [],
    help: '1 if the last config (re)load was applied, 0 if it was rejected.' },
  { name: 'mailsync_config_last_reload_success_timestamp_seconds', type: 'gauge', producer: 'process', labels: [],
    help: 'When the config was last loaded or reloaded successfully.' },
  { name: 'mailsync_config_max_transient_retries', type: 'gauge', producer: 'process', labels: [],
    help: 'organization.retry.maxTransientRetries of the running config: transient failures retried before the next one disables the direction.' },
  { name: 'mailsync_store_errors_total', type: 'counter', producer: 'process', labels: [],
    help: 'Store operations that failed: scrapes that could not read it (the state families are then missing) and sync cycles that could not record their work (full disk, I/O error, database unreachable).' },

  // B: leases when several runners share one store (docs/scaling.md); one runner on SQLite holds every lease.
  { name: 'mailsync_runner_info', type: 'gauge', producer: 'process', labels: ['runner'],
    help: 'Always 1; the label is this runner\'s id (runner.id, else hostname-pid), as the leases know it.' },
  { name: 'mailsync_leases_held', type: 'gauge', producer: 'process', labels: ['direction'],
    help: 'Mailbox directions this runner holds the lease of, by direction: only these are synced by it.' },
  { name: 'mailsync_lease_renewals_failed_total', type: 'counter', producer: 'process', labels: [],
    help: 'Held leases whose renewal failed: the store did not answer (each held lease counted) or another runner had taken it over.' },
  { name: 'mailsync_lease_fencing_refusals_total', type: 'counter', producer: 'process', labels: ['direction'],
    help: 'Cycles whose writes the store refused because another runner had taken their lease over (nothing of theirs was kept).' },
  { name: 'mailsync_mailboxes_unleased', type: 'gauge', producer: 'store', labels: ['direction'],
    help: 'Configured mailbox directions no runner holds a live lease on, fleet-wide, read from the store at each scrape.' },

  // F: webhooks, one series per configured webhook (and result): deliveries from this process,
  // the outbox from the store at each scrape.
  { name: 'mailsync_webhook_deliveries_total', type: 'counter', producer: 'process', labels: ['webhook', 'result'],
    help: 'Webhook delivery attempts by result: delivered (2xx), retry (failed or slow, tried again later), dead (failed with its budget spent).' },
  { name: 'mailsync_webhook_outbox_pending', type: 'gauge', producer: 'store', labels: ['webhook'],
    help: 'Changes waiting in the outbox to be delivered to a webhook (first attempts and retries).' },
  { name: 'mailsync_webhook_oldest_pending_age_seconds', type: 'gauge', producer: 'store', labels: ['webhook'],
    help: 'How long the oldest change not yet delivered to a webhook has waited (0 when none waits).' },
  { name: 'mailsync_webhook_dead_letters', type: 'gauge', producer: 'store', labels: ['webhook'],
    help: 'Deliveries to a webhook that spent their retry budget and wait for an operator to replay them.' },

  // Profile aggregates: a few series per profile, from the store at each scrape.
  { name: 'mailsync_profile_info', type: 'gauge', producer: 'store', labels: ['profile', 'owner', 'protocol'],
    help: 'Always 1: each email server profile, its owner (who is told when its mailboxes fail) and protocol.' },
  { name: 'mailsync_profile_mailboxes', type: 'gauge', producer: 'store', labels: ['profile', 'health'],
    help: 'Configured mailboxes of a profile in each health bucket (every bucket present, zeros included).' },
  { name: 'mailsync_profile_mailboxes_recently_failed', type: 'gauge', producer: 'store', labels: ['profile'],
    help: 'Mailboxes of a profile with a failed run within metrics.intermittentWindowSeconds (default 1 h).' },
  { name: 'mailsync_profile_pending_send_emails', type: 'gauge', producer: 'store', labels: ['profile'],
    help: 'Emails queued from the mailboxes of a profile and not sent yet.' },
  { name: 'mailsync_profile_mailboxes_testing_long', type: 'gauge', producer: 'store', labels: ['profile'],
    help: 'Mailboxes of a profile whose Test & Enable has been scheduled or running for longer than metrics.longTestEnableSeconds.' },

  // Mailbox state: ~10 series per mailbox, from the store at each scrape (only with metrics.perMailboxSeries).
  { name: 'mailsync_mailbox_info', type: 'gauge', producer: 'text', labels: ['mailbox', 'profile', 'address'],
    help: 'Always 1: the profile and address of each configured mailbox (the only series with the address).' },
  { name: 'mailsync_mailbox_health', type: 'gauge', producer: 'text', labels: ['mailbox', 'health'],
    help: 'Always 1, on the mailbox\'s current health bucket: healthy, failing, intermittent, inactive or testing.' },
  { name: 'mailsync_mailbox_enabled', type: 'gauge', producer: 'text', labels: MAILBOX_DIRECTION,
    help: '1 when a configured direction is enabled, 0 when the system or an operator disabled it.' },
  { name: 'mailsync_mailbox_disabled', type: 'gauge', producer: 'text', labels: ['mailbox', 'direction', 'code'],
    help: 'Present (1) while the system keeps a direction disabled, with the taxonomy code of the failure.' },
  { name: 'mailsync_mailbox_consecutive_failures', type: 'gauge', producer: 'text', labels: MAILBOX_DIRECTION,
    help: 'Failed runs in a row (reset by a success or Test & Enable); the 11th transient one disables by default.' },
  { name: 'mailsync_mailbox_last_success_timestamp_seconds', type: 'gauge', producer: 'text', labels: MAILBOX_DIRECTION,
    help: 'When the last successful run of a direction ended (absent until one succeeds).' },
  { name: 'mailsync_mailbox_last_error_timestamp_seconds', type: 'gauge', producer: 'text', labels: ['mailbox', 'direction', 'code', 'class', 'scope'],
    help: 'When the last failure of a direction happened, with its code, class and scope (absent until one fails).' },
  { name: 'mailsync_mailbox_test_started_timestamp_seconds', type: 'gauge', producer: 'text', labels: ['mailbox'],
    help: 'While Test & Enable is scheduled or running: when it was requested.' },
  { name: 'mailsync_mailbox_sync_runs_total', type: 'counter', producer: 'text', labels: ['mailbox', 'direction', 'result'],
    help: 'Finished runs of a direction by result (success, failure; aborted once any). Kept in the store: survives restarts.' },
  { name: 'mailsync_mailbox_sync_retries_total', type: 'counter', producer: 'text', labels: MAILBOX_DIRECTION,
    help: 'Runs started after a failed one: the attempts the retry policy made. Survives restarts.' },
  { name: 'mailsync_mailbox_items_processed_total', type: 'counter', producer: 'text', labels: MAILBOX_DIRECTION,
    help: 'Messages handled by the runs of a direction (stored, already stored, or failed as an item). Survives restarts.' },
  { name: 'mailsync_mailbox_sync_errors_total', type: 'counter', producer: 'text', labels: ['mailbox', 'direction', 'class', 'scope', 'code'],
    help: 'Failures recorded against a mailbox by direction, class, scope and code (runs and Test & Enable). Survives restarts.' },
  { name: 'mailsync_mailbox_items_failed_total', type: 'counter', producer: 'text', labels: ['mailbox', 'direction', 'code'],
    help: 'Item-level failures of a mailbox by direction and code (one email failed, the mailbox kept going). Survives restarts.' },
  { name: 'mailsync_mailbox_pending_send_emails', type: 'gauge', producer: 'text', labels: ['mailbox'],
    help: 'Emails queued from a mailbox and not sent yet (Pending Send, sending or postponed); present for mailboxes configured for outgoing or with a queue.' },
  { name: 'mailsync_mailbox_pending_send_oldest_age_seconds', type: 'gauge', producer: 'text', labels: ['mailbox'],
    help: 'How long the oldest email not sent yet has waited since it was queued (absent when the queue is empty).' },
] as const satisfies readonly Family[];

type Row = (typeof FAMILIES)[number];
export type FamilyName = Row['name'];
/** The row of one family, with its type, producer and labels as literal types. */
export type FamilyOf<N extends FamilyName> = Extract<Row, { name: N }>;
/** Names of the families of one type and producer: a Counter cannot be built for a gauge family. */
export type NameOf<T extends Family['type'], P extends Producer = Producer> = Extract<Row, { type: T; producer: P }>['name'];

const BY_NAME = new Map<string, Row>(FAMILIES.map((f) => [f.name, f]));

export function family<N extends FamilyName>(name: N): FamilyOf<N> {
  return BY_NAME.get(name) as FamilyOf<N>;
}
