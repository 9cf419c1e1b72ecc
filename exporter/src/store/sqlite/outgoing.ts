import type Database from 'better-sqlite3';
import { currentFence } from '../fence.js';
import type { SqliteFeed } from './feed.js';
import type { OutgoingEmail, OutgoingEvent, OutgoingState, QueuedEmailInput } from '../types.js';

const WEEK_MS = 7 * 86_400_000;

/**
 * The Pending Send queue. Every state change and its history entry are one transaction; a send is
 * recorded as `sending` before the connection opens, so a crash leaves a trace to reconcile.
 */
export class SqliteOutgoing {
  readonly #db: Database.Database;
  readonly #s;
  readonly #feed: SqliteFeed;

  constructor(db: Database.Database, feed: SqliteFeed) {
    this.#db = db;
    this.#s = prepare(db);
    this.#feed = feed;
  }

  queue(e: QueuedEmailInput): number {
    return this.#db.transaction(() => {
      const id = Number(this.#s.insert.run({
        mailboxId: e.mailboxId, messageId: e.messageId, from: e.envelopeFrom, recipients: JSON.stringify(e.recipients),
        subject: e.subject, raw: e.raw, size: e.raw.length, at: e.at, by: e.by,
      }).lastInsertRowid);
      this.#event(id, { mailbox_id: e.mailboxId, message_id: e.messageId }, e.at, 'pending_send', `queued by ${e.by}`);
      return id;
    })();
  }

  get(id: number): OutgoingEmail | undefined {
    const row = this.#s.get.get(id) as Row | undefined;
    return row && toEmail(row);
  }

  raw(id: number): Buffer | undefined {
    return (this.#s.raw.get(id) as { raw: Buffer } | undefined)?.raw;
  }

  history(id: number): OutgoingEvent[] {
    return this.#s.history.all(id) as OutgoingEvent[];
  }

  list(mailboxId: string, state: OutgoingState | undefined, limit: number): OutgoingEmail[] {
    const rows = state ? this.#s.listState.all(mailboxId, state, limit) : this.#s.list.all(mailboxId, limit);
    return (rows as Row[]).map(toEmail);
  }

  /** Emails to send now: Pending Send, and postponed ones whose time has come, oldest first. */
  due(mailboxId: string, now: number, limit: number): OutgoingEmail[] {
    return (this.#s.due.all({ mailboxId, now, limit }) as Row[]).map(toEmail);
  }

  /** Emails left in `sending` by an interrupted run: the outcome of their send is unknown. */
  interrupted(mailboxId: string): OutgoingEmail[] {
    return (this.#s.listState.all(mailboxId, 'sending', 10_000) as Row[]).map(toEmail);
  }

  markSending(id: number, at: number): void {
    this.#change(id, at, 'sending', 'sending', () => this.#s.sending.get(id) as Ids | undefined);
  }

  markSent(id: number, at: number, response: string, profileId: string, recipients: number, detail = `accepted: ${response}`): void {
    this.#change(id, at, 'sent', detail, () => {
      const ids = this.#s.sent.get({ id, at, response }) as Ids | undefined;
      if (ids) this.#s.log.run(profileId, at, recipients);
      return ids;
    });
  }

  markFailed(id: number, at: number, code: string, message: string): void {
    this.#change(id, at, 'failed', `${code}: ${message}`, () => this.#s.failed.get({ id, code, message }) as Ids | undefined);
  }

  /** Waits until `until` (a sending limit, or the provider asked us to); not a failure of the email. */
  markPostponed(id: number, at: number, until: number, reason: string, code: string | null = null): void {
    this.#change(id, at, 'postponed', `${reason}; next attempt ${new Date(until).toISOString()}`, () =>
      this.#s.postponed.get({ id, until, code, message: code ? reason : null }) as Ids | undefined);
  }

  /** Back in the queue: the mailbox could not send (it will retry), or a reconciliation found it unsent. */
  backToPending(id: number, at: number, reason: string, code: string | null = null): void {
    this.#change(id, at, 'pending_send', reason, () => this.#s.pending.get({ id, code, message: code ? reason : null }) as Ids | undefined);
  }

  /** Forgets sends older than a week: the limits look back one day. Once per outgoing run, not per send. */
  pruneSendLog(now: number): void {
    this.#s.pruneLog.run(now - WEEK_MS);
  }

  /** Sends of a profile since `since`: what the limits count. */
  sendsSince(profileId: string, since: number): { at: number; recipients: number }[] {
    return this.#s.sends.all({ profileId, since, self: askingMailbox() }) as { at: number; recipients: number }[];
  }

  /**
   * Messages a profile sent in the last minute and recipients in the last day, before `now`, and
   * the ones its other mailboxes have in flight (IN_FLIGHT).
   */
  sendTotals(profileId: string, now: number): { messagesLastMinute: number; recipientsLastDay: number } {
    const row = this.#s.totals.get({ profileId, minute: now - 60_000, day: now - 86_400_000, self: askingMailbox() }) as { m: number | null; r: number | null };
    return { messagesLastMinute: row.m ?? 0, recipientsLastDay: row.r ?? 0 };
  }

  /** Per mailbox: emails not sent yet (pending, sending, postponed) and the oldest one's queue time. */
  queueStats(): { mailboxId: string; emails: number; oldestQueuedAt: number }[] {
    return this.#s.stats.all() as { mailboxId: string; emails: number; oldestQueuedAt: number }[];
  }

  /**
   * A state change and its history entry, atomic. Inside a caller's transaction (the send cycle
   * groups an email's `sent` with the next claim) no savepoint is opened: the outer transaction is
   * already all or nothing, and two savepoint statements per change were a tenth of a send's store work.
   */
  #change(id: number, at: number, state: OutgoingState, detail: string, write: () => Ids | undefined): void {
    const change = () => {
      const ids = write();
      if (!ids) throw new Error(`outgoing email ${id} does not exist`);
      this.#event(id, ids, at, state, detail);
    };
    if (this.#db.inTransaction) change();
    else this.#db.transaction(change)();
  }

  /** Every state change, queueing included, is one history entry and one change in the feed. */
  #event(id: number, { mailbox_id: mailboxId, message_id: messageId }: Ids, at: number, state: OutgoingState, detail: string): void {
    const short = detail.slice(0, 1_000);
    this.#s.event.run(id, at, state, short);
    this.#feed.append({ kind: 'outgoing_state', mailboxId, refId: id, at, data: { outgoingId: id, messageId, state, detail: short } });
  }
}

/** What a state change's feed entry names; the UPDATE returns it (RETURNING), no second read. */
interface Ids { mailbox_id: string; message_id: string }

/** A: an outgoing_email row as both drivers read it, and its mapping. */
export interface Row {
  id: number; mailbox_id: string; message_id: string; state: OutgoingState; envelope_from: string; recipients: string;
  subject: string | null; size: number; queued_at: number; queued_by: string; attempts: number; next_attempt_at: number | null;
  last_error_code: string | null; last_error_message: string | null; sent_at: number | null; smtp_response: string | null;
}

export function toEmail(r: Row): OutgoingEmail {
  return {
    id: r.id, mailboxId: r.mailbox_id, messageId: r.message_id, state: r.state, envelopeFrom: r.envelope_from,
    recipients: JSON.parse(r.recipients) as string[], subject: r.subject, size: r.size, queuedAt: r.queued_at,
    queuedBy: r.queued_by, attempts: r.attempts, nextAttemptAt: r.next_attempt_at, lastErrorCode: r.last_error_code,
    lastErrorMessage: r.last_error_message, sentAt: r.sent_at, smtpResponse: r.smtp_response,
  };
}

/** Returned by every state change (see Ids). */
const IDS = 'mailbox_id, message_id';

const COLUMNS = `id, mailbox_id, message_id, state, envelope_from, recipients, subject, size, queued_at, queued_by, attempts,
  next_attempt_at, last_error_code, last_error_message, sent_at, smtp_response`;

/**
 * The emails of a profile that its other mailboxes claimed (`sending`) and have not finished: sent
 * or being sent, not yet in the send log. Several mailboxes of one profile run their cycles at
 * once, each in its own claim transaction, so without these each would read the log alone and
 * all pass a limit together. The asking mailbox (its cycle's fence) is left out: its cycle counts
 * its own sends in flight. Mailboxes are found through the store's definitions, where the config
 * file's are imported too; `at` is the claim's time. The PostgreSQL driver reads the same
 * (postgres/send-limits.ts), under a lock, since its runners are several.
 */
const IN_FLIGHT = `SELECT (SELECT max(ev.at) FROM outgoing_event ev WHERE ev.email_id = o.id AND ev.state = 'sending') AS at,
    json_array_length(o.recipients) AS recipients
  FROM outgoing_email o JOIN definition d ON d.kind = 'mailbox' AND d.id = o.mailbox_id
  WHERE o.state = 'sending' AND json_extract(d.body, '$.profile') = @profileId AND o.mailbox_id IS NOT @self`;

/** The mailbox whose cycle reads the limits, from the fence it runs under; null outside a cycle. */
const askingMailbox = (): string | null => currentFence()?.mailboxId ?? null;

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(`INSERT INTO outgoing_email (mailbox_id, message_id, state, envelope_from, recipients, subject, raw, size,
      queued_at, queued_by) VALUES (@mailboxId, @messageId, 'pending_send', @from, @recipients, @subject, @raw, @size, @at, @by)`),
    event: db.prepare('INSERT INTO outgoing_event (email_id, at, state, detail) VALUES (?, ?, ?, ?)'),
    get: db.prepare(`SELECT ${COLUMNS} FROM outgoing_email WHERE id = ?`),
    raw: db.prepare('SELECT raw FROM outgoing_email WHERE id = ?'),
    history: db.prepare('SELECT at, state, detail FROM outgoing_event WHERE email_id = ? ORDER BY id'),
    list: db.prepare(`SELECT ${COLUMNS} FROM outgoing_email WHERE mailbox_id = ? ORDER BY id DESC LIMIT ?`),
    listState: db.prepare(`SELECT ${COLUMNS} FROM outgoing_email WHERE mailbox_id = ? AND state = ? ORDER BY id LIMIT ?`),
    due: db.prepare(`SELECT ${COLUMNS} FROM outgoing_email WHERE mailbox_id = @mailboxId
      AND (state = 'pending_send' OR (state = 'postponed' AND next_attempt_at <= @now)) ORDER BY id LIMIT @limit`),
    sending: db.prepare(`UPDATE outgoing_email SET state = 'sending', attempts = attempts + 1 WHERE id = ? RETURNING ${IDS}`),
    sent: db.prepare(`UPDATE outgoing_email SET state = 'sent', sent_at = @at, smtp_response = @response, next_attempt_at = NULL,
      last_error_code = NULL, last_error_message = NULL WHERE id = @id RETURNING ${IDS}`),
    failed: db.prepare(`UPDATE outgoing_email SET state = 'failed', last_error_code = @code, last_error_message = @message,
      next_attempt_at = NULL WHERE id = @id RETURNING ${IDS}`),
    postponed: db.prepare(`UPDATE outgoing_email SET state = 'postponed', next_attempt_at = @until, last_error_code = @code,
      last_error_message = @message WHERE id = @id RETURNING ${IDS}`),
    pending: db.prepare(`UPDATE outgoing_email SET state = 'pending_send', next_attempt_at = NULL,
      last_error_code = coalesce(@code, last_error_code), last_error_message = coalesce(@message, last_error_message) WHERE id = @id RETURNING ${IDS}`),
    log: db.prepare('INSERT INTO send_log (profile_id, at, recipients) VALUES (?, ?, ?)'),
    pruneLog: db.prepare('DELETE FROM send_log WHERE at < ?'),
    totals: db.prepare(`WITH logged AS (SELECT coalesce(sum(at > @minute), 0) AS m, coalesce(sum(recipients), 0) AS r FROM send_log
        WHERE profile_id = @profileId AND at > @day),
      flying AS (SELECT count(*) AS m, coalesce(sum(recipients), 0) AS r FROM (${IN_FLIGHT}))
      SELECT logged.m + flying.m AS m, logged.r + flying.r AS r FROM logged, flying`),
    sends: db.prepare(`SELECT at, recipients FROM send_log WHERE profile_id = @profileId AND at >= @since
      UNION ALL SELECT at, recipients FROM (${IN_FLIGHT}) ORDER BY at`),
    stats: db.prepare(`SELECT mailbox_id AS mailboxId, count(*) AS emails, min(queued_at) AS oldestQueuedAt FROM outgoing_email
      WHERE state IN ('pending_send', 'sending', 'postponed') GROUP BY mailbox_id`),
  };
}
