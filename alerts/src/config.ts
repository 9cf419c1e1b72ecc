import { DEFAULT_LEASE_SECONDS, DEFAULT_RETRY_BUDGET, JOB_SELECTOR, LONG_TEST_ENABLE_SECONDS, RUNBOOK_BASE_URL } from '@mailsync/contract';

/**
 * Every threshold and selector of the alert rules (the kubernetes-mixin way). The rules are built
 * from such an object (`buildAlerts`), not from module constants, so the mixin generator can build
 * them once more with stand-ins and turn those into jsonnet `_config` references. `N` is the type
 * of the numeric thresholds: numbers here, the generator's stand-in strings there; both only ever
 * land in PromQL text.
 */
export interface AlertConfig<N extends number | string = number> {
  selector: string;
  /** runbook_url of an alert: `%s` is replaced by its name in lower case (the runbook's anchors). */
  runbookUrlPattern: string;
  retryBudgetWarnFailures: N;
  notSyncingSeconds: N;
  profileFailingShare: N;
  pendingSendStuckSeconds: N;
  testEnableLongSeconds: N;
  exporterDownFor: string;
  disabledFor: string;
  conditionFor: string;
  /** B: how long mailbox directions may stay without a lease holder before MailsyncMailboxesUnleased fires. */
  unleasedFor: string;
}

/** mailsync's own values, each with the reason for it. Change one here and run `npm run alerts:generate`. */
export const ALERT_CONFIG: AlertConfig = {
  /** Selects the mailsync scrape job(s) (the reason is in @mailsync/contract). */
  selector: JOB_SELECTOR,
  /** The runbook in the repository, one section per alert. */
  runbookUrlPattern: `${RUNBOOK_BASE_URL}#%s`,
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
  /**
   * B: two lease periods at the default lease (the reason is in @mailsync/contract): a dead runner's
   * leases run out within one, and another runner claims them within its next round.
   */
  unleasedFor: `${2 * DEFAULT_LEASE_SECONDS}s`,
};
