import type { OutgoingEmail, OutgoingEvent, OutgoingState, QueuedEmailInput } from '../types.js';
import { toEmail, type Row } from '../sqlite/outgoing.js';
import type { Db, Tx } from './connection.js';
import { currentFence, FencedError, type Fence } from '../fence.js';
import { PgSendLimits } from './send-limits.js';

const WEEK_MS = 7 * 86_400_000;

/** C: the NOTIFY channel of queued emails: the payload is the mailbox, heard by every runner's listener (listen.ts). */
export const OUTGOING_CHANNEL = 'mailsync_outgoing';

/**
 * An email this runner's cycle meant to claim was claimed by another runner. Only the cycle of a
 * mailbox's outgoing lease changes its emails' states, and every write checks that lease first,
 * so a lost claim follows a lost lease: it is a FencedError, ending the cycle the same way (not
 * the mailbox's failure: no retry used, nothing disabled, counted and logged as a fencing refusal).
 * The transaction rolls back and nothing is sent twice.
 */
export class OutgoingClaimError extends FencedError {
  readonly emailId: number;

  constructor(emailId: number, fence: Fence) {
    super(fence);
    this.name = 'OutgoingClaimError';
    this.emailId = emailId;
    this.message = `outgoing email ${emailId} was claimed by another runner: ${this.message}`;
  }
}

/** Outside a lease (tools, tests) there is no lease to have lost: the claim is refused as such. */
function claimLost(emailId: number): Error {
  const fence = currentFence();
  return fence ? new OutgoingClaimError(emailId, fence) : new Error(`outgoing email ${emailId} is no longer waiting to be sent: another writer claimed it`);
}

/**
 * The Pending Send queue in PostgreSQL. Every state change and its history entry are one
 * transaction. `markSending` is the claim: a conditional UPDATE that only a Pending Send or
 * postponed email passes, so with several runners exactly one of them sends it.
 */
export class PgOutgoing {
  readonly #db: Db;
  readonly #limits: PgSendLimits;

  constructor(db: Db) {
    this.#db = db;
    this.#limits = new PgSendLimits(db);
  }

  queue(e: QueuedEmailInput): Promise<number> {
    return this.#db.write(async (tx) => {
      const [row] = await tx.query<{ id: number }>(`INSERT INTO outgoing_email (mailbox_id, message_id, state, envelope_from, recipients,
        subject, raw, size, queued_at, queued_by) VALUES ($1, $2, 'pending_send', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [e.mailboxId, e.messageId, e.envelopeFrom, JSON.stringify(e.recipients), e.subject, e.raw, e.raw.length, e.at, e.by]);
      const id = (row as { id: number }).id;
      await event(tx, id, e.at, 'pending_send', `queued by ${e.by}`);
      // Delivered at COMMIT: the lease holder, on whichever runner, wakes the mailbox and finds the email.
      await tx.query('SELECT pg_notify($1, $2)', [OUTGOING_CHANNEL, e.mailboxId]);
      return id;
    });
  }

  async get(id: number): Promise<OutgoingEmail | undefined> {
    const [row] = await this.#db.read<Row>(`${SELECT} WHERE id = $1`, [id]);
    return row && toEmail(row);
  }

  async raw(id: number): Promise<Buffer | undefined> {
    return (await this.#db.read<{ raw: Buffer }>('SELECT raw FROM outgoing_email WHERE id = $1', [id]))[0]?.raw;
  }

  history(id: number): Promise<OutgoingEvent[]> {
    return this.#db.read('SELECT at, state, detail FROM outgoing_event WHERE email_id = $1 ORDER BY id', [id]);
  }

  async list(mailboxId: string, state: OutgoingState | undefined, limit: number): Promise<OutgoingEmail[]> {
    const rows = state
      ? await this.#db.read<Row>(`${SELECT} WHERE mailbox_id = $1 AND state = $2 ORDER BY id LIMIT $3`, [mailboxId, state, limit])
      : await this.#db.read<Row>(`${SELECT} WHERE mailbox_id = $1 ORDER BY id DESC LIMIT $2`, [mailboxId, limit]);
    return rows.map(toEmail);
  }

  async due(mailboxId: string, now: number, limit: number): Promise<OutgoingEmail[]> {
    return (await this.#db.read<Row>(`${SELECT} WHERE mailbox_id = $1
      AND (state = 'pending_send' OR (state = 'postponed' AND next_attempt_at <= $2)) ORDER BY id LIMIT $3`, [mailboxId, now, limit])).map(toEmail);
  }

  async interrupted(mailboxId: string): Promise<OutgoingEmail[]> {
    return (await this.#db.read<Row>(`${SELECT} WHERE mailbox_id = $1 AND state = 'sending' ORDER BY id LIMIT 10000`, [mailboxId])).map(toEmail);
  }

  markSending(id: number, at: number): Promise<void> {
    return this.#change(id, at, 'sending', 'sending', async (tx) => {
      const claimed = await tx.query(`UPDATE outgoing_email SET state = 'sending', attempts = attempts + 1
        WHERE id = $1 AND state IN ('pending_send', 'postponed') RETURNING id`, [id]);
      if (claimed.length === 0) throw claimLost(id);
    });
  }

  markSent(id: number, at: number, response: string, profileId: string, recipients: number, detail = `accepted: ${response}`): Promise<void> {
    return this.#change(id, at, 'sent', detail, async (tx) => {
      await tx.query(`UPDATE outgoing_email SET state = 'sent', sent_at = $2, smtp_response = $3, next_attempt_at = NULL,
        last_error_code = NULL, last_error_message = NULL WHERE id = $1`, [id, at, response]);
      await tx.query('INSERT INTO send_log (profile_id, at, recipients) VALUES ($1, $2, $3)', [profileId, at, recipients]);
    });
  }

  markFailed(id: number, at: number, code: string, message: string): Promise<void> {
    return this.#change(id, at, 'failed', `${code}: ${message}`, (tx) => tx.query(`UPDATE outgoing_email SET state = 'failed',
      last_error_code = $2, last_error_message = $3, next_attempt_at = NULL WHERE id = $1`, [id, code, message]));
  }

  markPostponed(id: number, at: number, until: number, reason: string, code: string | null = null): Promise<void> {
    return this.#change(id, at, 'postponed', `${reason}; next attempt ${new Date(until).toISOString()}`, (tx) => tx.query(`UPDATE outgoing_email
      SET state = 'postponed', next_attempt_at = $2, last_error_code = $3, last_error_message = $4 WHERE id = $1`, [id, until, code, code ? reason : null]));
  }

  backToPending(id: number, at: number, reason: string, code: string | null = null): Promise<void> {
    return this.#change(id, at, 'pending_send', reason, (tx) => tx.query(`UPDATE outgoing_email SET state = 'pending_send', next_attempt_at = NULL,
      last_error_code = coalesce($2, last_error_code), last_error_message = coalesce($3, last_error_message) WHERE id = $1`,
    [id, code, code ? reason : null]));
  }

  async pruneSendLog(now: number): Promise<void> {
    await this.#db.write((tx) => tx.query('DELETE FROM send_log WHERE at < $1', [now - WEEK_MS]));
  }

  /** The limits' reads, under the profile's lock (send-limits.ts). */
  sendsSince(profileId: string, since: number): Promise<{ at: number; recipients: number }[]> {
    return this.#limits.sendsSince(profileId, since);
  }

  sendTotals(profileId: string, now: number): Promise<{ messagesLastMinute: number; recipientsLastDay: number }> {
    return this.#limits.sendTotals(profileId, now);
  }

  queueStats(): Promise<{ mailboxId: string; emails: number; oldestQueuedAt: number }[]> {
    return this.#db.read(`SELECT mailbox_id AS "mailboxId", count(*) AS emails, min(queued_at) AS "oldestQueuedAt" FROM outgoing_email
      WHERE state IN ('pending_send', 'sending', 'postponed') GROUP BY mailbox_id`);
  }

  #change(id: number, at: number, state: OutgoingState, detail: string, write: (tx: Tx) => Promise<unknown>): Promise<void> {
    return this.#db.write(async (tx) => {
      await write(tx);
      await event(tx, id, at, state, detail);
    });
  }
}

/** Every state change, queueing included, is one history entry and one change in the feed. */
async function event(tx: Tx, id: number, at: number, state: OutgoingState, detail: string): Promise<void> {
  const short = detail.slice(0, 1_000);
  const [ids] = await tx.query<{ mailbox_id: string; message_id: string }>(`INSERT INTO outgoing_event (email_id, at, state, detail)
    VALUES ($1, $2, $3, $4) RETURNING (SELECT mailbox_id FROM outgoing_email WHERE id = $1), (SELECT message_id FROM outgoing_email WHERE id = $1)`,
  [id, at, state, short]);
  const { mailbox_id: mailboxId, message_id: messageId } = ids as { mailbox_id: string; message_id: string };
  tx.append({ kind: 'outgoing_state', mailboxId, refId: id, at, data: { outgoingId: id, messageId, state, detail: short } });
}


const SELECT = `SELECT id, mailbox_id, message_id, state, envelope_from, recipients, subject, size, queued_at, queued_by, attempts,
  next_attempt_at, last_error_code, last_error_message, sent_at, smtp_response FROM outgoing_email`;
