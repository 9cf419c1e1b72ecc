import type {
  Change, DeliveryAttempt, DeliveryState, OutboxStats, WebhookDelivery, WebhookSubscription,
} from '../feed-types.js';
import { toChange, toDelivery, type ChangeRow, type DeliveryRow } from '../sqlite/feed.js';
import { prepared, type Db, type FlushChanges } from './connection.js';

/** The channel NOTIFY wakes other runners' long-polls on (feed/changes listen.ts). */
export const FEED_CHANNEL = 'mailsync_feed';

/** The webhooks of this runner's config: each change gets an outbox row for those that want its kind. */
export class Subscriptions {
  list: WebhookSubscription[] = [];
}

/**
 * The feed's write side, the last statement of every transaction that queued changes: it takes
 * the numbers from the single-row counter (its row lock is held to COMMIT, so numbers are handed
 * out in commit order and a reader never passes one still to commit), writes the change rows and
 * their outbox rows, and queues a NOTIFY that PostgreSQL delivers only if and when the transaction
 * commits. One statement rather than four, and the connection sends COMMIT right behind it
 * (connection.ts): every transaction that writes changes waits on that lock, so the less it is held
 * across, the shorter the queue (pg_stat_statements, 3 runners at 1,000 mailboxes: the flush
 * averaged 29.5 ms, nearly all of it waiting for the lock).
 */
export function flushChanges(subscriptions: Subscriptions): FlushChanges {
  return (changes) => {
    // Outbox rows by the change's place in the batch (1-based, as WITH ORDINALITY counts).
    const webhooks: string[] = [];
    const places: number[] = [];
    const ats: number[] = [];
    changes.forEach((c, i) => {
      for (const w of subscriptions.list) {
        if (!w.kinds.includes(c.kind)) continue;
        webhooks.push(w.id);
        places.push(i + 1);
        ats.push(c.at);
      }
    });
    return {
      sql: FLUSH,
      values: [
        changes.length, changes.map((c) => c.at), changes.map((c) => c.kind), changes.map((c) => c.mailboxId), changes.map((c) => c.refId),
        changes.map((c) => JSON.stringify(c.data)), webhooks, places, ats, FEED_CHANNEL,
      ],
    };
  };
}

const FLUSH = prepared(`WITH top AS (UPDATE feed_counter SET seq = seq + $1 RETURNING seq),
      changes AS (INSERT INTO change_feed (seq, at, kind, mailbox_id, ref_id, data)
        SELECT top.seq - $1 + c.place, c.at, c.kind, c.mailbox_id, c.ref_id, c.data
        FROM top, unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS c(at, kind, mailbox_id, ref_id, data, place)),
      outbox AS (INSERT INTO webhook_delivery (webhook_id, seq, state, next_attempt_at, created_at)
        SELECT w.id, top.seq - $1 + w.place, 'pending', w.at, w.at FROM top, unnest($7::text[], $8::bigint[], $9::bigint[]) AS w(id, place, at))
      SELECT pg_notify($10, seq::text) FROM top`);

/** The change feed and the webhook outbox in PostgreSQL (reads, deliveries; changes come in through Tx.append). */
export class PgFeed {
  readonly #db: Db;
  readonly #subscriptions: Subscriptions;

  constructor(db: Db, subscriptions: Subscriptions) {
    this.#db = db;
    this.#subscriptions = subscriptions;
  }

  /**
   * D: pending deliveries of webhooks no longer configured are dropped (dead ones stay listed). With
   * several runners this is why they must share the same webhooks (docs/scaling.md).
   */
  setWebhooks(subscriptions: WebhookSubscription[]): Promise<number> {
    this.#subscriptions.list = subscriptions.map((w) => ({ id: w.id, kinds: [...w.kinds] }));
    return this.#db.write(async (tx) => (await tx.query(`DELETE FROM webhook_delivery WHERE state = 'pending'
      AND NOT (webhook_id = ANY($1::text[])) RETURNING id`, [subscriptions.map((w) => w.id)])).length);
  }

  async changesAfter(after: number, limit: number): Promise<Change[]> {
    return (await this.#db.read<ChangeRow>(`${CHANGE} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit])).map(toChange);
  }

  async change(seq: number): Promise<Change | undefined> {
    const [row] = await this.#db.read<ChangeRow>(`${CHANGE} WHERE seq = $1`, [seq]);
    return row && toChange(row);
  }

  prune(before: number, keep: number): Promise<number> {
    return this.#db.write(async (tx) => {
      const [top] = await tx.query<{ seq: number }>('SELECT seq FROM feed_counter');
      const removed = await tx.query(`DELETE FROM change_feed WHERE (at < $1 OR seq <= $2)
        AND seq NOT IN (SELECT seq FROM webhook_delivery WHERE state <> 'delivered') RETURNING seq`, [before, (top?.seq ?? 0) - keep]);
      await tx.query(`DELETE FROM webhook_delivery d WHERE state = 'delivered' AND NOT EXISTS (SELECT 1 FROM change_feed c WHERE c.seq = d.seq)`);
      return removed.length;
    });
  }

  /** SKIP LOCKED: two runners' webhook workers claiming at once take different rows, never the same. */
  async claimDeliveries(webhookId: string, now: number, limit: number, leaseUntil: number): Promise<WebhookDelivery[]> {
    const rows = await this.#db.write((tx) => tx.query<DeliveryRow>(`UPDATE webhook_delivery d SET next_attempt_at = $4
      FROM (SELECT id, next_attempt_at AS due FROM webhook_delivery WHERE webhook_id = $1 AND state = 'pending' AND next_attempt_at <= $2
        ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) c
      WHERE d.id = c.id RETURNING d.id, d.webhook_id, d.seq, d.state, d.attempts, d.created_at, c.due AS next_attempt_at,
        d.last_attempt_at, d.last_status, d.last_error, d.delivered_at`, [webhookId, now, limit, leaseUntil]));
    return rows.map(toDelivery).sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || a.id - b.id);
  }

  async nextDueAt(webhookIds: readonly string[]): Promise<number | undefined> {
    const [row] = await this.#db.read<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM webhook_delivery
      WHERE state = 'pending' AND webhook_id = ANY($1::text[])`, [webhookIds]);
    return row?.at ?? undefined;
  }

  async recordAttempt(id: number, a: DeliveryAttempt): Promise<void> {
    const state: DeliveryState = a.next === 'delivered' ? 'delivered' : a.next === 'dead' ? 'dead' : 'pending';
    const nextAt = typeof a.next === 'object' ? a.next.retryAt : null;
    await this.#db.write((tx) => tx.query(`UPDATE webhook_delivery SET state = $2, attempts = attempts + 1, last_attempt_at = $3,
      last_status = $4, last_error = $5, next_attempt_at = $6,
      delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END WHERE id = $1`,
    [id, state, a.at, a.status, a.error?.slice(0, 500) ?? null, nextAt]));
  }

  async listDeliveries(state: DeliveryState | undefined, limit: number): Promise<WebhookDelivery[]> {
    const rows = state
      ? await this.#db.read<DeliveryRow>(`${DELIVERY} WHERE state = $1 ORDER BY id DESC LIMIT $2`, [state, limit])
      : await this.#db.read<DeliveryRow>(`${DELIVERY} ORDER BY id DESC LIMIT $1`, [limit]);
    return rows.map(toDelivery);
  }

  async delivery(id: number): Promise<WebhookDelivery | undefined> {
    const [row] = await this.#db.read<DeliveryRow>(`${DELIVERY} WHERE id = $1`, [id]);
    return row && toDelivery(row);
  }

  async replay(id: number, at: number): Promise<boolean> {
    const rows = await this.#db.write((tx) => tx.query(`UPDATE webhook_delivery SET state = 'pending', attempts = 0, next_attempt_at = $2
      WHERE id = $1 AND state = 'dead' RETURNING id`, [id, at]));
    return rows.length === 1;
  }

  outboxStats(): Promise<OutboxStats[]> {
    return this.#db.read<OutboxStats>(`SELECT webhook_id AS "webhookId", count(*) FILTER (WHERE state = 'pending') AS pending,
      count(*) FILTER (WHERE state = 'dead') AS dead, min(created_at) FILTER (WHERE state = 'pending') AS "oldestPendingAt"
      FROM webhook_delivery WHERE state <> 'delivered' GROUP BY webhook_id`);
  }

  async outgoingMessageIds(messageIds: readonly string[]): Promise<string[]> {
    if (messageIds.length === 0) return [];
    return (await this.#db.read<{ id: string }>('SELECT message_id AS id FROM outgoing_email WHERE message_id = ANY($1::text[])', [messageIds]))
      .map((r) => r.id);
  }
}

const CHANGE = 'SELECT seq, at, kind, mailbox_id, ref_id, data FROM change_feed';
const DELIVERY = `SELECT id, webhook_id, seq, state, attempts, created_at, next_attempt_at, last_attempt_at, last_status,
  last_error, delivered_at FROM webhook_delivery`;

