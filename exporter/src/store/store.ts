import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LifecycleStore } from './lifecycle.js';
import { MIGRATIONS } from './migrations.js';
import { OutgoingStore } from './outgoing.js';
import type {
  BatchOutcome,
  Direction,
  DirectionState,
  FolderBatch,
  FolderCursor,
  ItemFailure,
  RunFinish,
  ScrapeRow,
  StoredEmail,
  SyncRun,
} from './types.js';

/**
 * How many finished runs are kept per mailbox and direction. Failures are kept longer than
 * successes so that the reason for a page is still there when someone looks (blackbox_exporter's
 * history works the same way).
 */
export const RUN_HISTORY = { successes: 20, failures: 100 } as const;

export interface StoreOptions {
  /** ':memory:' for tests. */
  path: string;
}

/** The only module that speaks SQL. Every write that must be atomic is one transaction here. */
export class Store {
  readonly db: Database.Database;
  /** Approval, Test & Enable, disables, the alert wall and the audit log. */
  readonly lifecycle: LifecycleStore;
  /** The Pending Send queue. */
  readonly outgoing: OutgoingStore;
  readonly #stmts;
  readonly #commitTx: (batch: FolderBatch) => BatchOutcome;

  constructor(options: StoreOptions) {
    if (options.path !== ':memory:') mkdirSync(path.dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    // 4 KB pages (SQLite's default). 64 KB pages made raw-message writes 1.7x faster in isolation
    // but only ~7 % faster end to end, while every small transaction (run records, the Pending
    // Send queue's state changes) wrote whole 64 KB pages to the WAL and cost 4x as much: measured
    // in docs/performance.md. page_size only takes effect on a new, empty file; a store created
    // with 64 KB pages keeps them (VACUUM converts it).
    this.db.pragma('page_size = 4096');
    // WAL lets the scrape and the API read while a batch is written. synchronous=NORMAL is durable
    // across a process crash (what the exactly-once promise is about); a power cut can lose the last
    // commits, but never splits a batch from its cursor, so those UIDs are simply fetched again.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.#stmts = prepare(this.db);
    this.lifecycle = new LifecycleStore(this.db);
    this.outgoing = new OutgoingStore(this.db);
    this.#commitTx = this.db.transaction((b: FolderBatch) => writeBatch(this.#stmts, b));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  getCursor(mailboxId: string, folder: string): FolderCursor | undefined {
    const row = this.#stmts.getCursor.get(mailboxId, folder) as { uidvalidity: number; last_uid: number } | undefined;
    return row && { uidvalidity: row.uidvalidity, lastUid: row.last_uid };
  }

  /** Sets the cursor without storing anything (first sync from a date, or a UIDVALIDITY change). */
  setCursor(mailboxId: string, folder: string, cursor: FolderCursor, at: number): void {
    this.#stmts.upsertCursor.run(mailboxId, folder, cursor.uidvalidity, cursor.lastUid, at);
  }

  /**
   * Stores a batch of fetched messages and advances the folder cursor in one transaction, so a
   * crash either keeps both or neither. Messages whose bytes are already stored for this mailbox
   * only gain a location row: that is what makes re-fetches after a crash or a UIDVALIDITY change,
   * and the same message in two folders, free of duplicates.
   */
  commitBatch(batch: FolderBatch): BatchOutcome {
    return this.#commitTx(batch);
  }

  countEmails(mailboxId: string): number {
    return (this.#stmts.countEmails.get(mailboxId) as { n: number }).n;
  }

  listEmails(mailboxId: string, limit = 100, offset = 0): StoredEmail[] {
    return (this.#stmts.listEmails.all(mailboxId, limit, offset) as EmailRow[]).map(toEmail);
  }

  /** Raw bytes of one stored email, for whoever needs the full MIME parse. */
  getRawEmail(id: number): Buffer | undefined {
    return (this.#stmts.getRaw.get(id) as { raw: Buffer } | undefined)?.raw;
  }

  emailLocations(mailboxId: string): { folder: string; uidvalidity: number; uid: number; emailId: number }[] {
    return this.#stmts.locations.all(mailboxId) as { folder: string; uidvalidity: number; uid: number; emailId: number }[];
  }

  listItemFailures(mailboxId: string): ItemFailure[] {
    return this.#stmts.listFailures.all(mailboxId) as ItemFailure[];
  }

  startRun(mailboxId: string, direction: Direction, at: number): number {
    return this.db.transaction(() => {
      this.#stmts.ensureState.run(mailboxId, direction);
      this.#stmts.markStarted.run(at, mailboxId, direction);
      return Number(this.#stmts.insertRun.run(mailboxId, direction, at).lastInsertRowid);
    })();
  }

  /** Closes a run and folds it into the mailbox's runtime state, then trims old history. */
  finishRun(runId: number, finish: RunFinish): void {
    this.db.transaction(() => {
      const s = this.#stmts;
      const run = s.getRun.get(runId) as { mailbox_id: string; direction: string } | undefined;
      if (!run) throw new Error(`no sync run ${runId}`);
      s.finishRun.run(finish.result, finish.at, finish.itemsProcessed, finish.itemsFailed,
        finish.errorCode ?? null, finish.errorMessage ?? null, runId);
      const key = { mailbox: run.mailbox_id, direction: run.direction };
      const counts = { ...key, at: finish.at, processed: finish.itemsProcessed, failed: finish.itemsFailed };
      if (finish.result === 'success') s.markSuccess.run(counts);
      else if (finish.result === 'failure') {
        const f = finish.failure;
        s.markFailure.run({
          ...counts, code: finish.errorCode ?? null, message: finish.errorMessage ?? null,
          class: f?.class ?? null, scope: f?.scope ?? null, nextAttemptAt: f?.nextAttemptAt ?? null,
        });
        if (f) this.#recordFailure(run.mailbox_id, run.direction as Direction, finish, f);
      } else s.markAborted.run(counts);
      s.pruneRuns.run({ ...key, result: 'success', keep: RUN_HISTORY.successes });
      s.pruneRuns.run({ ...key, result: 'failure', keep: RUN_HISTORY.failures });
    })();
  }

  /** Alert wall and disable, inside finishRun's transaction. */
  #recordFailure(mailboxId: string, direction: Direction, finish: RunFinish, f: NonNullable<RunFinish['failure']>): void {
    const code = finish.errorCode ?? 'internal_error';
    const message = finish.errorMessage ?? '';
    const record = { direction, code, class: f.class, scope: f.scope, mailboxId, message, at: finish.at };
    this.lifecycle.recordAlert({ ...record, objectType: 'mailbox', objectId: mailboxId });
    if (f.scope === 'server') this.lifecycle.recordAlert({ ...record, objectType: 'profile', objectId: f.profileId });
    if (f.disable) this.lifecycle.disable(mailboxId, direction, { code, reason: message, by: 'system', at: finish.at });
  }

  /** Runs left open by a crash are closed as aborted so the history does not show them running. */
  abortUnfinishedRuns(at: number): number {
    return this.#stmts.abortOpenRuns.run(at).changes;
  }

  /** Newest first; `result` keeps only runs with that result (the status page shows failures apart). */
  listRuns(mailboxId: string, limit = 50, result?: 'success' | 'failure' | 'aborted'): SyncRun[] {
    if (result) return this.#stmts.listRunsByResult.all(mailboxId, result, limit) as SyncRun[];
    return this.#stmts.listRuns.all(mailboxId, limit) as SyncRun[];
  }

  getDirectionState(mailboxId: string, direction: Direction): DirectionState | undefined {
    const row = this.#stmts.getState.get(mailboxId, direction) as (Omit<DirectionState, 'disabled'> & { disabled: number }) | undefined;
    return row && { ...row, disabled: row.disabled === 1 };
  }

  /** Item failures per mailbox, direction and code (each repeat counted), for the scrape. */
  itemFailureCounts(): { mailboxId: string; direction: Direction; code: string; count: number }[] {
    return this.#stmts.itemFailureCounts.all() as { mailboxId: string; direction: Direction; code: string; count: number }[];
  }

  /** Every direction state as positional rows (see ScrapeRow), for /metrics. */
  scrapeRows(): ScrapeRow[] {
    return this.#stmts.scrapeRows.all() as ScrapeRow[];
  }

  /** Every direction state, for the admin API's list and the status page. */
  listDirectionStates(): DirectionState[] {
    return (this.#stmts.listStates.all() as (Omit<DirectionState, 'disabled'> & { disabled: number })[])
      .map((row) => ({ ...row, disabled: row.disabled === 1 }));
  }

}

function writeBatch(s: Statements, b: FolderBatch): BatchOutcome {
  let inserted = 0;
  const emailIdByUid = new Map<number, number>();
  for (const e of b.emails) {
    const h = e.headers;
    const row = s.insertEmail.get(
      b.mailboxId, e.sha256, h.messageId, h.from, h.to, h.cc, h.subject, h.sentAt, e.raw.length, e.raw, b.at,
    ) as { id: number } | undefined;
    let id = row?.id;
    if (id === undefined) id = (s.findEmail.get(b.mailboxId, e.sha256) as { id: number }).id;
    else inserted += 1;
    s.upsertLocation.run(b.mailboxId, b.folder, b.uidvalidity, e.uid, id);
    emailIdByUid.set(e.uid, id);
  }
  for (const f of b.failures) {
    s.upsertFailure.run({
      mailbox: b.mailboxId, direction: 'incoming', folder: b.folder, uidvalidity: b.uidvalidity, uid: f.uid,
      code: f.code, detail: f.detail, size: f.size, emailId: emailIdByUid.get(f.uid) ?? null, at: b.at,
    });
  }
  s.upsertCursor.run(b.mailboxId, b.folder, b.uidvalidity, b.lastUid, b.at);
  return { inserted, alreadyStored: b.emails.length - inserted };
}

type Statements = ReturnType<typeof prepare>;

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`store schema version ${current} is newer than this mailsync (${MIGRATIONS.length}); upgrade mailsync`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

interface EmailRow {
  id: number; mailbox_id: string; message_id: string | null; from_addr: string | null; to_addrs: string | null;
  cc_addrs: string | null; subject: string | null; sent_at: number | null; size: number; sha: string; first_seen_at: number;
}

function toEmail(r: EmailRow): StoredEmail {
  return {
    id: r.id, mailboxId: r.mailbox_id, messageId: r.message_id, from: r.from_addr, to: r.to_addrs, cc: r.cc_addrs,
    subject: r.subject, sentAt: r.sent_at, size: r.size, contentSha256: r.sha, firstSeenAt: r.first_seen_at,
  };
}

const RUN_SELECT = `SELECT id, mailbox_id AS mailboxId, direction, started_at AS startedAt, finished_at AS finishedAt,
  result, items_processed AS itemsProcessed, items_failed AS itemsFailed, error_code AS errorCode,
  error_message AS errorMessage FROM sync_run`;

const STATE_COLUMNS = `mailbox_id AS mailboxId, direction, status, last_run_started_at AS lastRunStartedAt,
  last_run_finished_at AS lastRunFinishedAt, last_success_at AS lastSuccessAt, last_failure_at AS lastFailureAt,
  last_error_code AS lastErrorCode, last_error_message AS lastErrorMessage, consecutive_failures AS consecutiveFailures,
  items_processed_total AS itemsProcessedTotal, items_failed_total AS itemsFailedTotal,
  last_error_class AS lastErrorClass, last_error_scope AS lastErrorScope, disabled = 1 AS disabled,
  disabled_code AS disabledCode, disabled_reason AS disabledReason, disabled_by AS disabledBy, disabled_at AS disabledAt,
  next_attempt_at AS nextAttemptAt, runs_success_total AS runsSuccessTotal, runs_failure_total AS runsFailureTotal,
  runs_aborted_total AS runsAbortedTotal, retries_total AS retriesTotal`;

function prepare(db: Database.Database) {
  return {
    getCursor: db.prepare('SELECT uidvalidity, last_uid FROM folder_cursor WHERE mailbox_id = ? AND folder = ?'),
    upsertCursor: db.prepare(`INSERT INTO folder_cursor (mailbox_id, folder, uidvalidity, last_uid, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox_id, folder) DO UPDATE
      SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`),
    insertEmail: db.prepare(`INSERT INTO email (mailbox_id, content_sha256, message_id, from_addr, to_addrs, cc_addrs,
      subject, sent_at, size, raw, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mailbox_id, content_sha256) DO NOTHING RETURNING id`),
    findEmail: db.prepare('SELECT id FROM email WHERE mailbox_id = ? AND content_sha256 = ?'),
    upsertLocation: db.prepare(`INSERT INTO email_location (mailbox_id, folder, uidvalidity, uid, email_id)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET email_id = excluded.email_id`),
    upsertFailure: db.prepare(`INSERT INTO item_failure (mailbox_id, direction, folder, uidvalidity, uid, code, detail,
      size, email_id, first_seen_at, last_seen_at)
      VALUES (@mailbox, @direction, @folder, @uidvalidity, @uid, @code, @detail, @size, @emailId, @at, @at)
      ON CONFLICT (mailbox_id, folder, uidvalidity, uid, code) DO UPDATE
      SET count = count + 1, last_seen_at = excluded.last_seen_at, detail = excluded.detail`),
    countEmails: db.prepare('SELECT count(*) AS n FROM email WHERE mailbox_id = ?'),
    listEmails: db.prepare(`SELECT id, mailbox_id, message_id, from_addr, to_addrs, cc_addrs, subject, sent_at, size,
      lower(hex(content_sha256)) AS sha, first_seen_at FROM email WHERE mailbox_id = ? ORDER BY id LIMIT ? OFFSET ?`),
    getRaw: db.prepare('SELECT raw FROM email WHERE id = ?'),
    locations: db.prepare(`SELECT folder, uidvalidity, uid, email_id AS emailId FROM email_location
      WHERE mailbox_id = ? ORDER BY folder, uidvalidity, uid`),
    listFailures: db.prepare(`SELECT mailbox_id AS mailboxId, direction, folder, uidvalidity, uid, code, detail, size,
      email_id AS emailId, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt, count
      FROM item_failure WHERE mailbox_id = ? ORDER BY last_seen_at DESC, id`),
    ensureState: db.prepare('INSERT INTO mailbox_direction_state (mailbox_id, direction) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    markStarted: db.prepare(`UPDATE mailbox_direction_state SET last_run_started_at = ?,
      retries_total = retries_total + (consecutive_failures > 0) WHERE mailbox_id = ? AND direction = ?`),
    insertRun: db.prepare('INSERT INTO sync_run (mailbox_id, direction, started_at) VALUES (?, ?, ?)'),
    getRun: db.prepare('SELECT mailbox_id, direction FROM sync_run WHERE id = ?'),
    finishRun: db.prepare(`UPDATE sync_run SET result = ?, finished_at = ?, items_processed = ?, items_failed = ?,
      error_code = ?, error_message = ? WHERE id = ?`),
    markSuccess: db.prepare(`UPDATE mailbox_direction_state SET status = 'success', last_run_finished_at = @at,
      last_success_at = @at, consecutive_failures = 0, next_attempt_at = NULL, runs_success_total = runs_success_total + 1, items_processed_total = items_processed_total + @processed,
      items_failed_total = items_failed_total + @failed WHERE mailbox_id = @mailbox AND direction = @direction`),
    markFailure: db.prepare(`UPDATE mailbox_direction_state SET status = 'failure', last_run_finished_at = @at,
      last_failure_at = @at, last_error_code = @code, last_error_message = @message, last_error_class = @class,
      last_error_scope = @scope, next_attempt_at = @nextAttemptAt, runs_failure_total = runs_failure_total + 1,
      consecutive_failures = consecutive_failures + 1, items_processed_total = items_processed_total + @processed,
      items_failed_total = items_failed_total + @failed WHERE mailbox_id = @mailbox AND direction = @direction`),
    markAborted: db.prepare(`UPDATE mailbox_direction_state SET last_run_finished_at = @at, runs_aborted_total = runs_aborted_total + 1,
      items_processed_total = items_processed_total + @processed, items_failed_total = items_failed_total + @failed
      WHERE mailbox_id = @mailbox AND direction = @direction`),
    pruneRuns: db.prepare(`DELETE FROM sync_run WHERE mailbox_id = @mailbox AND direction = @direction AND result = @result
      AND id NOT IN (SELECT id FROM sync_run WHERE mailbox_id = @mailbox AND direction = @direction AND result = @result
      ORDER BY id DESC LIMIT @keep)`),
    abortOpenRuns: db.prepare(`UPDATE sync_run SET result = 'aborted', finished_at = ?, error_message = 'runner stopped during the run'
      WHERE result IS NULL`),
    listRuns: db.prepare(`${RUN_SELECT} WHERE mailbox_id = ? ORDER BY id DESC LIMIT ?`),
    listRunsByResult: db.prepare(`${RUN_SELECT} WHERE mailbox_id = ? AND result = ? ORDER BY id DESC LIMIT ?`),
    getState: db.prepare(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state WHERE mailbox_id = ? AND direction = ?`),
    listStates: db.prepare(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state ORDER BY mailbox_id, direction`),
    // Column order is ScrapeRow's.
    scrapeRows: db.prepare(`SELECT mailbox_id, direction, status, disabled, disabled_code, consecutive_failures, last_success_at,
      last_failure_at, last_error_code, last_error_class, last_error_scope, runs_success_total, runs_failure_total,
      runs_aborted_total, retries_total, items_processed_total FROM mailbox_direction_state`).raw(true),
    itemFailureCounts: db.prepare(`SELECT mailbox_id AS mailboxId, direction, code, sum(count) AS count FROM item_failure
      GROUP BY mailbox_id, direction, code`),
  };
}
