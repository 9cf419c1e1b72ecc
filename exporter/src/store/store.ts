import type { Readable } from 'node:stream';
import type {
  Change, DeliveryAttempt, DeliveryState, OutboxStats, WebhookDelivery, WebhookSubscription,
} from './feed-types.js';
import type { ChangeNotifier } from './notifier.js';
import type { CompactionReport } from './packs/compact.js';
import type { RawCheckReport } from './packs/check.js';
import type {
  AlertRecord, AlertRecordInput, Approval, AuditEntry, AuditInput, BatchOutcome, Direction, DirectionState, FolderBatch, GateState,
  FolderCursor, ItemFailure, Lifecycle, OutgoingEmail, OutgoingEvent, OutgoingState, QueuedEmailInput, RunFinish, ScrapeRow,
  StoredEmail, StoredRefreshToken, SyncRun, TestState,
} from './types.js';
import type { EmailQuery, EmailRecord, ItemFailureQuery, ItemFailureRecord } from './record-types.js';
import type { ActStore } from './act-types.js';
import type { DefinitionStore } from './definition-types.js';
import type { LeaseStore } from './lease-types.js';

/**
 * What mailsync keeps, as one interface that each store driver implements (SQLite today,
 * PostgreSQL next). Every method returns a promise because PostgreSQL's client is asynchronous;
 * the SQLite driver answers at once (measured: docs/decisions.md). The store persists and never
 * decides: what a failure does (disable, alert records, retry time) is decided in policy/ and
 * carried out by lifecycle/, through these functions.
 */
export interface Store {
  /** Incoming mail: folder cursors, stored emails and their locations, item failures. */
  readonly mail: MailStore;
  /** Sync runs and each mailbox direction's runtime state. */
  readonly runs: RunStore;
  /** Approval, Test & Enable, disables, the alert wall and the audit log. */
  readonly lifecycle: LifecycleStore;
  /** The Pending Send queue and the send log behind the provider limits. */
  readonly outgoing: OutgoingStore;
  /** POP3 incoming: the UIDLs of each maildrop already stored. */
  readonly pop3: Pop3Store;
  /** C: appointments, contacts and tasks. */
  readonly act: ActStore;
  /** A: rotated OAuth2 refresh tokens, encrypted by the caller. */
  readonly tokens: TokenStore;
  /** The change feed and the webhook outbox (the writers above append to it in their own transactions). */
  readonly feed: FeedStore;
  /** Wakes the feed's long-polls and the webhook worker after a change commits. */
  readonly changes: ChangeNotifier;
  /** C: profiles and mailboxes defined in the store (file imports and the admin API), with a revision counter. */
  readonly definitions: DefinitionStore;
  /**
   * B: which runner holds which mailbox direction. Never inside a transaction: a lease is the
   * runner's own business, not part of the work it fences.
   */
  readonly leases: LeaseStore;
  /**
   * C: calls `listener` with the mailbox of every email queued by any runner sharing this store,
   * once committed, so that the runner holding the mailbox's outgoing lease sends it at once, not
   * at its next scan (the API's runner wakes only its own schedulers). A SQLite file has one
   * runner, whose API wakes the mailbox itself: nothing to listen for. Returns the unsubscribe.
   */
  onOutgoingQueued(listener: (mailboxId: string) => void): () => void;
  /**
   * Runs `fn` atomically: its writes through `tx` commit together or not at all. Other callers
   * wait until it ends, so keep network I/O out of `fn`.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  schemaVersion(): Promise<number>;
  /**
   * Removes raw bytes nothing points at (a crash between a pack write and its commit leaves some).
   * Called when the runner starts, before any ingest.
   */
  compact(): Promise<CompactionReport>;
  /** The database's own consistency check, then every email's raw bytes against its SHA-256. */
  check(progress: (done: number, total: number) => void): Promise<StoreCheckReport>;
  close(): Promise<void>;
}

export interface StoreCheckReport extends RawCheckReport {
  /** The database's own findings (`PRAGMA integrity_check` for SQLite); empty when it is sound. */
  integrity: string[];
}

/** The store as seen inside a transaction. */
export type StoreTx = Omit<Store, 'close' | 'compact' | 'check' | 'leases' | 'onOutgoingQueued'>;

export interface MailStore {
  getCursor(mailboxId: string, folder: string): Promise<FolderCursor | undefined>;
  /** Sets the cursor without storing anything (first sync from a date, or a UIDVALIDITY change). */
  setCursor(mailboxId: string, folder: string, cursor: FolderCursor, at: number): Promise<void>;
  /**
   * Stores a batch of fetched messages and advances the folder cursor in one transaction, so a
   * crash either keeps both or neither. Messages whose bytes are already stored for this mailbox
   * only gain a location: re-fetches after a crash or a UIDVALIDITY change, and the same message in
   * two folders, are free of duplicates.
   */
  commitBatch(batch: FolderBatch): Promise<BatchOutcome>;
  countEmails(mailboxId: string): Promise<number>;
  listEmails(mailboxId: string, limit?: number, offset?: number): Promise<StoredEmail[]>;
  /** Raw bytes of one stored email, for whoever needs the full MIME parse. */
  getRawEmail(id: number): Promise<Buffer | undefined>;
  emailLocations(mailboxId: string): Promise<{ folder: string; uidvalidity: number; uid: number; emailId: number }[]>;
  listItemFailures(mailboxId: string): Promise<ItemFailure[]>;
  /** Item failures per mailbox, direction and code (each repeat counted), for the scrape. */
  itemFailureCounts(): Promise<{ mailboxId: string; direction: Direction; code: string; count: number }[]>;
  // Records API (read side). Pages are bounded by `limit`; nothing here loads a whole mailbox.
  queryEmails(q: EmailQuery): Promise<EmailRecord[]>;
  getEmail(mailboxId: string, id: number): Promise<EmailRecord | undefined>;
  /**
   * The raw RFC 822 bytes of one email as a stream, read in chunks (never the whole blob at once);
   * undefined when there is no such email. The one way the API reads raw bytes, so another layout
   * (pack files) only re-implements this.
   */
  openRaw(emailId: number): Promise<Readable | undefined>;
  /** Records what a parse found, for emails stored before ingest looked (NULL until then). */
  setHasAttachments(emailId: number, hasAttachments: boolean): Promise<void>;
  queryItemFailures(q: ItemFailureQuery): Promise<ItemFailureRecord[]>;
}

export interface Pop3Store {
  /** Every UIDL already stored for the mailbox, with the id its email's location carries as UID. */
  seenUidls(mailboxId: string): Promise<Map<string, number>>;
  /**
   * Records UIDLs as seen and returns their ids. Call it inside the transaction that commits their
   * emails (`mail.commitBatch` with those ids as UIDs), so a crash keeps both or neither.
   */
  markSeen(mailboxId: string, uidls: string[], at: number): Promise<Map<string, number>>;
  /** Forgets UIDLs the server no longer lists (deleted or renumbered): the table stays bounded. */
  pruneMissing(mailboxId: string, onServer: string[]): Promise<number>;
}

export interface RunStore {
  /** Opens a run; `retry` says whether policy counts it as an attempt after a failure. */
  startRun(mailboxId: string, direction: Direction, at: number, retry: boolean): Promise<number>;
  /** Closes a run and folds its result into the direction's state, then trims old history. */
  finishRun(runId: number, finish: RunFinish): Promise<void>;
  /** Runs left open by a crash are closed as aborted so the history does not show them running. */
  abortUnfinishedRuns(at: number): Promise<number>;
  /**
   * B: closes as aborted the open runs of one mailbox direction, whoever opened them: its new lease
   * holder calls this when it takes the direction over from a runner that died or lost the lease.
   */
  abortOpenRunsOf(mailboxId: string, direction: Direction, at: number): Promise<number>;
  /** Newest first; `result` keeps only runs with that result (the status page shows failures apart). */
  listRuns(mailboxId: string, limit?: number, result?: 'success' | 'failure' | 'aborted'): Promise<SyncRun[]>;
  getDirectionState(mailboxId: string, direction: Direction): Promise<DirectionState | undefined>;
  /**
   * The direction's state and the mailbox's lifecycle in one read: what every turn's gate reads
   * before its cycle (on PostgreSQL one statement, not two, on each of a fleet's cycles).
   */
  gateState(mailboxId: string, direction: Direction): Promise<GateState>;
  listDirectionStates(): Promise<DirectionState[]>;
  /** Every direction state as positional rows (see ScrapeRow), for /metrics. */
  scrapeRows(): Promise<ScrapeRow[]>;
}

export interface LifecycleStore {
  get(mailboxId: string): Promise<Lifecycle>;
  list(): Promise<Lifecycle[]>;
  setApproval(mailboxId: string, approval: Approval, by: string, role: string, at: number): Promise<void>;
  requestTest(mailboxId: string, by: string, thisOrgOnly: boolean, at: number, sendTestMessage?: boolean): Promise<void>;
  setTestState(mailboxId: string, state: Exclude<TestState, 'none'>, at: number, result?: unknown): Promise<void>;
  /** Mailboxes with Test & Enable scheduled or running, and when it was requested (for /metrics). */
  activeTests(): Promise<{ mailboxId: string; state: TestState; requestedAt: number | null }[]>;
  /** Test & Enable requests still to run (scheduled, or running when the runner stopped), oldest first. */
  pendingTests(): Promise<string[]>;
  /** Disables a direction. `code` is the taxonomy code when the system disables, null for an operator. */
  disable(mailboxId: string, direction: Direction, d: { code: string | null; reason: string; by: string; at: number }): Promise<void>;
  /** Enables a direction and resets its retry budget; `at` dates the feed's change (when it was disabled). */
  enable(mailboxId: string, direction: Direction, at?: number): Promise<void>;
  /** One record per object, direction and code: first seen, last seen and how often. */
  recordAlert(a: AlertRecordInput): Promise<void>;
  alerts(objectType: 'mailbox' | 'profile', objectId: string, limit?: number): Promise<AlertRecord[]>;
  /** Failure counts per mailbox, direction and code (the mailbox alert records), for the scrape. */
  mailboxErrorCounts(): Promise<{ mailboxId: string; direction: string; code: string; class: string; scope: string; count: number }[]>;
  audit(entry: AuditInput): Promise<void>;
  auditLog(mailboxId: string, limit?: number): Promise<AuditEntry[]>;
  /** How many of `mailboxIds` had a failed run at or after `since` (the profile's failing share). */
  countFailedSince(mailboxIds: string[], since: number): Promise<number>;
}

export interface OutgoingStore {
  queue(e: QueuedEmailInput): Promise<number>;
  get(id: number): Promise<OutgoingEmail | undefined>;
  raw(id: number): Promise<Buffer | undefined>;
  history(id: number): Promise<OutgoingEvent[]>;
  list(mailboxId: string, state: OutgoingState | undefined, limit: number): Promise<OutgoingEmail[]>;
  /** Emails to send now: Pending Send, and postponed ones whose time has come, oldest first. */
  due(mailboxId: string, now: number, limit: number): Promise<OutgoingEmail[]>;
  /** Emails left in `sending` by an interrupted run: the outcome of their send is unknown. */
  interrupted(mailboxId: string): Promise<OutgoingEmail[]>;
  markSending(id: number, at: number): Promise<void>;
  markSent(id: number, at: number, response: string, profileId: string, recipients: number, detail?: string): Promise<void>;
  markFailed(id: number, at: number, code: string, message: string): Promise<void>;
  /** Waits until `until` (a sending limit, or the provider asked us to); not a failure of the email. */
  markPostponed(id: number, at: number, until: number, reason: string, code?: string | null): Promise<void>;
  /** Back in the queue: the mailbox could not send (it will retry), or a reconciliation found it unsent. */
  backToPending(id: number, at: number, reason: string, code?: string | null): Promise<void>;
  /** Forgets sends older than the limits look back. Once per outgoing run, not per send. */
  pruneSendLog(now: number): Promise<void>;
  /** Sends of a profile since `since`: what the limits count. */
  sendsSince(profileId: string, since: number): Promise<{ at: number; recipients: number }[]>;
  /** Messages a profile sent in the last minute and recipients in the last day, before `now`. */
  sendTotals(profileId: string, now: number): Promise<{ messagesLastMinute: number; recipientsLastDay: number }>;
  /** Per mailbox: emails not sent yet (pending, sending, postponed) and the oldest one's queue time. */
  queueStats(): Promise<{ mailboxId: string; emails: number; oldestQueuedAt: number }[]>;
}

/** A: the latest refresh token of each OAuth2 login (key: auth/login.ts), sealed before it is stored. */
export interface TokenStore {
  getRefreshToken(loginKey: string): Promise<StoredRefreshToken | undefined>;
  /** Replaces the login's token atomically: the previous one stays until the new one is written. */
  putRefreshToken(loginKey: string, token: StoredRefreshToken): Promise<void>;
}

export interface FeedStore {
  /** The webhooks that get an outbox row for each later change; drops the pending deliveries of webhooks not listed (dead ones stay) and returns how many. */
  setWebhooks(subscriptions: WebhookSubscription[]): Promise<number>;
  changesAfter(after: number, limit: number): Promise<Change[]>;
  change(seq: number): Promise<Change | undefined>;
  /** Forgets changes older than `before` and beyond the newest `keep`, except those webhooks still owe. */
  prune(before: number, keep: number): Promise<number>;
  /** Takes a webhook's due deliveries and leases them until `leaseUntil` (a crash lets them fall due again). */
  claimDeliveries(webhookId: string, now: number, limit: number, leaseUntil: number): Promise<WebhookDelivery[]>;
  nextDueAt(webhookIds: readonly string[]): Promise<number | undefined>;
  recordAttempt(id: number, attempt: DeliveryAttempt): Promise<void>;
  listDeliveries(state: DeliveryState | undefined, limit: number): Promise<WebhookDelivery[]>;
  delivery(id: number): Promise<WebhookDelivery | undefined>;
  /** A dead delivery back to pending with a fresh budget; false when it is not dead. */
  replay(id: number, at: number): Promise<boolean>;
  outboxStats(): Promise<OutboxStats[]>;
  /** Which of `messageIds` belong to email mailsync queued: what the `responses` filter correlates with. */
  outgoingMessageIds(messageIds: readonly string[]): Promise<string[]>;
}
