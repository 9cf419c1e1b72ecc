import type { Approval, Direction, TestState } from '@mailsync/contract';
export type { Approval, Direction, TestState };
export type RunResult = 'success' | 'failure' | 'aborted';

export interface FolderCursor {
  uidvalidity: number;
  lastUid: number;
}

/** Header fields extracted at ingest; the body stays raw until someone reads it. */
export interface EmailHeaders {
  messageId: string | null;
  from: string | null;
  to: string | null;
  cc: string | null;
  subject: string | null;
  /** The Date header as epoch milliseconds, or null when absent or unreadable. */
  sentAt: number | null;
}

export interface IngestedEmail {
  uid: number;
  raw: Buffer;
  sha256: Buffer;
  headers: EmailHeaders;
  /** Whether the MIME structure has attachment parts (records API filter); undefined when not looked at. */
  hasAttachments?: boolean;
  /** False when the incoming filter keeps it out of the change feed and webhooks (it is stored all the same). */
  publish?: boolean;
}

export interface ItemFailureInput {
  uid: number;
  code: string;
  detail: string;
  /**
   * Octets, when known. When the message itself is kept (a parse failure keeps the raw bytes), it
   * is also in the batch's `emails` under the same UID and the failure links to it.
   */
  size: number | null;
  /** What the failures view shows of the item, when known (its email, if stored, is the fallback). */
  subject?: string | null;
  messageId?: string | null;
}

export interface FolderBatch {
  mailboxId: string;
  folder: string;
  uidvalidity: number;
  /** The cursor after this batch: every UID up to it has been handled. */
  lastUid: number;
  emails: IngestedEmail[];
  failures: ItemFailureInput[];
  at: number;
}

export interface BatchOutcome {
  /** Emails stored for the first time. */
  inserted: number;
  /** Emails already in the store (same bytes seen in another folder or before a UIDVALIDITY change). */
  alreadyStored: number;
}

export interface StoredEmail extends EmailHeaders {
  id: number;
  mailboxId: string;
  size: number;
  contentSha256: string;
  firstSeenAt: number;
}

export interface ItemFailure {
  mailboxId: string;
  direction: string;
  folder: string;
  uidvalidity: number;
  uid: number;
  code: string;
  detail: string;
  size: number | null;
  emailId: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  count: number;
}

export interface SyncRun {
  id: number;
  mailboxId: string;
  direction: Direction;
  startedAt: number;
  finishedAt: number | null;
  result: RunResult | null;
  itemsProcessed: number;
  itemsFailed: number;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface RunFinish {
  result: RunResult;
  at: number;
  itemsProcessed: number;
  itemsFailed: number;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** For a failure: its classification and, when it will be retried, when (decided by policy/). */
  failure?: {
    class: 'permanent' | 'transient';
    scope: 'server' | 'mailbox';
    nextAttemptAt: number | null;
  };
}

export interface DirectionState {
  mailboxId: string;
  direction: Direction;
  status: 'not_run' | 'success' | 'failure';
  lastRunStartedAt: number | null;
  lastRunFinishedAt: number | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  consecutiveFailures: number;
  itemsProcessedTotal: number;
  itemsFailedTotal: number;
  lastErrorClass: 'permanent' | 'transient' | null;
  lastErrorScope: 'server' | 'mailbox' | null;
  /** 1 while the direction is disabled (by the system or an operator). */
  disabled: boolean;
  /** The taxonomy code the system disabled it with; null when an operator disabled it. */
  disabledCode: string | null;
  disabledReason: string | null;
  disabledBy: string | null;
  disabledAt: number | null;
  /** After a transient failure: no attempt before this time. */
  nextAttemptAt: number | null;
  runsSuccessTotal: number;
  runsFailureTotal: number;
  runsAbortedTotal: number;
  /** Runs started while the previous one had failed. */
  retriesTotal: number;
}

export interface Lifecycle {
  mailboxId: string;
  approval: Approval;
  approvalBy: string | null;
  approvalRole: string | null;
  approvalAt: number | null;
  test: {
    state: TestState;
    requestedBy: string | null;
    requestedAt: number | null;
    startedAt: number | null;
    finishedAt: number | null;
    thisOrgOnly: boolean;
    /** Test the outgoing direction end to end: send the mailbox a message and wait for it. */
    sendTestMessage: boolean;
    result: unknown;
  };
}

/** What a turn's gate decides on: the direction's state (none before its first run) and the mailbox's lifecycle. */
export interface GateState {
  state: DirectionState | undefined;
  lifecycle: Lifecycle;
}

/** The lifecycle of a mailbox nothing has happened to yet. */
export function emptyLifecycle(mailboxId: string): Lifecycle {
  return {
    mailboxId, approval: 'empty', approvalBy: null, approvalRole: null, approvalAt: null,
    test: { state: 'none', requestedBy: null, requestedAt: null, startedAt: null, finishedAt: null, thisOrgOnly: false, sendTestMessage: false, result: null },
  };
}

export interface AlertRecordInput {
  objectType: 'mailbox' | 'profile';
  objectId: string;
  direction: Direction;
  code: string;
  class: string;
  scope: string;
  mailboxId: string;
  message: string;
  at: number;
}

export interface AlertRecord extends Omit<AlertRecordInput, 'at'> {
  firstSeenAt: number;
  lastSeenAt: number;
  count: number;
}

export interface AuditInput {
  at: number;
  actor: string;
  role: string;
  action: string;
  mailboxId?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  role: string;
  action: string;
  mailboxId: string | null;
  detail: Record<string, unknown>;
}

/**
 * One mailbox direction's state as the scrape reads it: a positional row (better-sqlite3's raw
 * mode), because building a 20-key object per row cost more than the rest of a 10,000-mailbox
 * scrape. Indexes are in SCRAPE_COLUMNS.
 */
export type ScrapeRow = [
  mailboxId: string, direction: Direction, status: DirectionState['status'], disabled: number, disabledCode: string | null,
  consecutiveFailures: number, lastSuccessAt: number | null, lastFailureAt: number | null, lastErrorCode: string | null,
  lastErrorClass: string | null, lastErrorScope: string | null, runsSuccess: number, runsFailure: number, runsAborted: number,
  retries: number, itemsProcessed: number,
];

export const SCRAPE_COLUMNS = {
  mailboxId: 0, direction: 1, status: 2, disabled: 3, disabledCode: 4, consecutiveFailures: 5, lastSuccessAt: 6,
  lastFailureAt: 7, lastErrorCode: 8, lastErrorClass: 9, lastErrorScope: 10, runsSuccess: 11, runsFailure: 12,
  runsAborted: 13, retries: 14, itemsProcessed: 15,
} as const;

export type OutgoingState = 'pending_send' | 'sending' | 'sent' | 'failed' | 'postponed';
export const OUTGOING_STATES: readonly OutgoingState[] = ['pending_send', 'sending', 'sent', 'failed', 'postponed'];

export interface QueuedEmailInput {
  mailboxId: string;
  messageId: string;
  envelopeFrom: string;
  recipients: string[];
  subject: string | null;
  raw: Buffer;
  at: number;
  by: string;
}

export interface OutgoingEmail {
  id: number;
  mailboxId: string;
  messageId: string;
  state: OutgoingState;
  envelopeFrom: string;
  recipients: string[];
  subject: string | null;
  size: number;
  queuedAt: number;
  queuedBy: string;
  attempts: number;
  nextAttemptAt: number | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  sentAt: number | null;
  smtpResponse: string | null;
}

export interface OutgoingEvent {
  at: number;
  state: OutgoingState;
  detail: string;
}

/** A: a rotated OAuth2 refresh token as kept: sealed (encrypted), and which initial token it descends from. */
export interface StoredRefreshToken {
  sealed: Buffer;
  initialFingerprint: string;
  rotatedAt: number;
}
