import { currentFence } from '../fence.js';
import type { Db, Tx } from './connection.js';

/**
 * The key space of the profile send-limit locks: two-key advisory locks (this number, the
 * profile's hash), apart from the migrations' one-key lock. A hash collision between two profiles
 * only makes their claims wait for each other, never lets one pass unchecked.
 */
const SEND_LIMIT_LOCK = 0x73656e64; // 'send'

/**
 * The emails of a profile that other mailboxes claimed (`sending`) and have not finished: sent,
 * or being sent, but not yet in the send log. Their mailboxes are the store's definitions naming
 * the profile; the asking cycle's own mailbox is left out, since the cycle counts its own sends
 * in flight itself. `at` is the claim's time, when the send began.
 */
const IN_FLIGHT = `SELECT (SELECT max(ev.at) FROM outgoing_event ev WHERE ev.email_id = o.id AND ev.state = 'sending') AS at,
    json_array_length(o.recipients::json) AS recipients
  FROM outgoing_email o JOIN definition d ON d.kind = 'mailbox' AND d.id = o.mailbox_id
  WHERE o.state = 'sending' AND d.body->>'profile' = $1 AND o.mailbox_id IS DISTINCT FROM $2`;

/**
 * The reads behind a profile's sending limits, made atomic across runners. Runners whose
 * mailboxes share a profile share its limits, so two claim transactions that both read "one more
 * fits" and both claim would pass the limit together. Each read therefore first takes the
 * profile's transaction-scoped advisory lock: inside the outgoing cycle's claim transaction (read
 * the totals, decide, mark `sending`) the lock holds until that commits, so the claims of one
 * profile go one at a time over every runner, and each sees the ones before it, in the send log
 * or in flight. Without limits the cycle reads none of this and takes no lock.
 */
export class PgSendLimits {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  sendsSince(profileId: string, since: number): Promise<{ at: number; recipients: number }[]> {
    return this.#locked(profileId, (query, self) => query(`SELECT at, recipients FROM send_log WHERE profile_id = $1 AND at >= $3
      UNION ALL SELECT at, recipients FROM (${IN_FLIGHT}) f ORDER BY at`, [profileId, self, since]));
  }

  /** One statement, so an email that moves from `sending` to the log meanwhile is counted once. */
  async sendTotals(profileId: string, now: number): Promise<{ messagesLastMinute: number; recipientsLastDay: number }> {
    const [row] = await this.#locked(profileId, (query, self) => query<{ m: number; r: number }>(`WITH logged AS (
        SELECT count(*) FILTER (WHERE at > $3) AS m, coalesce(sum(recipients), 0) AS r FROM send_log WHERE profile_id = $1 AND at > $4),
      flying AS (SELECT count(*) AS m, coalesce(sum(recipients), 0) AS r FROM (${IN_FLIGHT}) f)
      SELECT logged.m + flying.m AS m, logged.r + flying.r AS r FROM logged, flying`, [profileId, self, now - 60_000, now - 86_400_000]));
    return { messagesLastMinute: row?.m ?? 0, recipientsLastDay: row?.r ?? 0 };
  }

  /**
   * `read` after the profile's lock, in the caller's transaction when there is one (the claim's);
   * alone, the lock ends with the read. `self`: the mailbox whose cycle asks (from its fence).
   */
  #locked<T>(profileId: string, read: (query: Tx['query'], self: string | null) => Promise<T>): Promise<T> {
    return this.#db.write(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SEND_LIMIT_LOCK, profileId]);
      return read((sql, values) => tx.query(sql, values), currentFence()?.mailboxId ?? null);
    });
  }
}
