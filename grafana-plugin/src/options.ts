import { DEFAULT_RETRY_BUDGET, LONG_TEST_ENABLE_SECONDS, RUNBOOK_BASE_URL } from '@mailsync/contract';

/** The panel's options (set in the panel editor). */
export interface SummaryOptions {
  /** Test & Enable scheduled or running for longer than this is "taking over a long time". */
  longTestMinutes: number;
  /** Transient failures retried before a mailbox is disabled (mailsync's organization.retry.maxTransientRetries). */
  retryBudget: number;
  /** The runbook; error codes are its anchors. */
  runbookBaseUrl: string;
  /** Link to one mailbox's dashboard; `${mailbox}` is replaced by the mailbox id. */
  mailboxLinkTemplate: string;
  /** Rows per page of the mailbox list. */
  pageSize: number;
}

/**
 * What a new panel starts with: mailsync's own defaults, so an unconfigured panel counts what the
 * runner and the alert rules count. No relative imports: the dashboards (Node resolution) and the
 * browser harness read these too.
 */
export const DEFAULT_OPTIONS: SummaryOptions = {
  longTestMinutes: LONG_TEST_ENABLE_SECONDS / 60,
  retryBudget: DEFAULT_RETRY_BUDGET,
  runbookBaseUrl: RUNBOOK_BASE_URL,
  mailboxLinkTemplate: '/d/mailsync-mailbox/mailsync-mailbox-status?var-mailbox=${mailbox}',
  pageSize: 100,
};
