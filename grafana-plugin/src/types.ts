/** The panel's options (set in the panel editor; defaults in module.ts). */
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

export type Health = 'healthy' | 'failing' | 'intermittent' | 'inactive' | 'testing';
export const HEALTH_BUCKETS: readonly Health[] = ['healthy', 'failing', 'intermittent', 'inactive', 'testing'];
export type Direction = 'incoming' | 'outgoing' | 'act';
export const DIRECTIONS: readonly Direction[] = ['incoming', 'outgoing', 'act'];

export interface DirectionRow {
  enabled: boolean;
  /** The taxonomy code while the system keeps the direction disabled. */
  disabledCode: string | null;
  consecutiveFailures: number;
  /** Epoch ms. */
  lastSuccessAt: number | null;
  lastError: { code: string; class: string; scope: string; at: number } | null;
}

/** One mailbox, joined from the query results by its `mailbox` label. */
export interface MailboxRow {
  mailbox: string;
  address: string;
  profile: string;
  health: Health;
  directions: Partial<Record<Direction, DirectionRow>>;
  /** While Test & Enable is scheduled or running: when it was requested (epoch ms). */
  testStartedAt: number | null;
}
