import { DEFAULT_RETRY_BUDGET, LONG_TEST_ENABLE_SECONDS, RUNBOOK_BASE_URL } from '@mailsync/contract';

/**
 * Every threshold and selector of the alert rules, in one place, each with the reason for its
 * value (the kubernetes-mixin way). Change a value here and run `npm run alerts:generate`.
 */
export const ALERT_CONFIG = {
  /** Selects the mailsync scrape job(s). Prometheus jobs are named by whoever deploys us. */
  selector: 'job=~"mailsync.*"',
  /** Where runbook_url points: the runbook in the repository, one section per alert. */
  runbookBaseUrl: RUNBOOK_BASE_URL,
  /**
   * Warn when half the default retry budget is used: with the default policy (10 retries, 5 minutes
   * apart) the 11th failure disables the mailbox, so 5 leaves about half an hour to act before the page.
   */
  retryBudgetWarnFailures: Math.ceil(DEFAULT_RETRY_BUDGET / 2),
  /**
   * An enabled mailbox with no successful run for this long has stopped syncing without being
   * disabled (stuck cycle, overloaded runner). Three hours is 36 poll intervals at the default.
   */
  notSyncingSeconds: 3 * 3_600,
  /** The product's rule: the profile owner is told when more than half of its mailboxes fail within an hour. */
  profileFailingShare: 0.5,
  /** Pending Send older than this is stuck: the queue is scanned every 5 minutes, so 30 minutes is 6 missed scans. */
  pendingSendStuckSeconds: 1_800,
  /** The runner's and the panel's "taking over a long time" (the reason is in @mailsync/contract). */
  testEnableLongSeconds: LONG_TEST_ENABLE_SECONDS,
  /** A scrape gap shorter than this is a restart or a blip, not an outage. */
  exporterDownFor: '5m',
  /**
   * Mailbox-disabled alerts fire at once (`for: 0s`): the state is already debounced by mailsync's
   * policy (a permanent failure was confirmed, or a transient one failed again after its last
   * retry: the 11th time in a row, over ~50 min, with the defaults) and kept in the store, so it
   * does not flap with scrapes.
   */
  disabledFor: '0s',
  /** Conditions measured over time need a little patience so that one bad scrape does not page. */
  conditionFor: '15m',
} as const;
