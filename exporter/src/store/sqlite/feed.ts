import type Database from 'better-sqlite3';
import {
  DATA_JSON, type Change, type ChangeInput, type ChangeKind, type DeliveryAttempt, type DeliveryState, type OutboxStats, type WebhookDelivery,
  type WebhookSubscription,
} from '../feed-types.js';

/**
 * The change feed and the webhook outbox in SQLite. `append` is the one way a change is written:
 * the store's writers call it inside their own transaction (an email stored, a direction disabled
 * or enabled, an outgoing email's state), and it writes the outbox row of every webhook that wants
 * that kind in the same transaction. The sequence is SQLite's AUTOINCREMENT rowid: one connection
 * writes, so it grows in commit order (PostgreSQL needs more: docs/decisions.md, "The change feed").
 */
export class SqliteFeed {
  readonly #s;
  readonly #changed: () => void;
  readonly #claim: (webhookId: string, now: number, limit: number, leaseUntil: number) => WebhookDelivery[];
  #subscriptions: WebhookSubscription[] = [];

  constructor(db: Database.Database, changed: () => void) {
    const s = prepare(db);
    this.#s = s;
    this.#changed = changed;
    this.#claim = db.transaction((webhookId: string, now: number, limit: number, leaseUntil: number) => {
      const rows = (s.due.all(webhookId, now, limit) as DeliveryRow[]).map(toDelivery);
      for (const r of rows) s.lease.run(leaseUntil, r.id);
      return rows;
    });
  }

  /** Only the store's writers call this, inside the transaction of the change it reports. */
  append(c: ChangeInput): number {
    const seq = Number(this.#s.append.run(c.at, c.kind, c.mailboxId, c.refId, JSON.stringify(c.data)).lastInsertRowid);
    for (const w of this.#subscriptions) if (w.kinds.includes(c.kind)) this.#s.outbox.run({ webhookId: w.id, seq, at: c.at });
    this.#changed();
    return seq;
  }

  /**
   * The webhooks that get an outbox row for each later change (config: webhooks). D: the pending
   * deliveries of a webhook no longer configured are dropped (nothing would ever send them, and
   * they would hold their changes back from pruning and count in the outbox depth); its dead ones
   * stay, listed for the record. Returns how many pending deliveries were dropped.
   */
  setWebhooks(subscriptions: WebhookSubscription[]): number {
    this.#subscriptions = subscriptions.map((w) => ({ id: w.id, kinds: [...w.kinds] }));
    return this.#s.dropRemoved.run(JSON.stringify(subscriptions.map((w) => w.id))).changes;
  }

  /** Changes with a sequence above `after`, in order. */
  changesAfter(after: number, limit: number): Change[] {
    return (this.#s.after.all(after, limit) as ChangeRow[]).map(toChange);
  }

  change(seq: number): Change | undefined {
    const row = this.#s.one.get(seq) as ChangeRow | undefined;
    return row && toChange(row);
  }

  /**
   * Forgets changes older than `before`, and beyond the newest `keep`, except those a webhook has
   * still to deliver or has given up on (an operator may replay them). Returns how many went.
   */
  prune(before: number, keep: number): number {
    const newest = (this.#s.maxSeq.get() as { seq: number | null }).seq ?? 0;
    const removed = this.#s.prune.run({ before, floor: newest - keep }).changes;
    this.#s.pruneDelivered.run();
    return removed;
  }

  /**
   * Takes up to `limit` of a webhook's pending deliveries due at `now`, oldest first, and leases
   * them until `leaseUntil` (their next attempt time moves there): the next claim skips them, and
   * if the runner dies mid-delivery they fall due again when the lease ends (at least once).
   */
  claimDeliveries(webhookId: string, now: number, limit: number, leaseUntil: number): WebhookDelivery[] {
    return this.#claim(webhookId, now, limit, leaseUntil);
  }

  /** When the next pending delivery of these webhooks is due, or undefined when none is pending. */
  nextDueAt(webhookIds: readonly string[]): number | undefined {
    return (this.#s.nextDue.get(JSON.stringify(webhookIds)) as { at: number | null }).at ?? undefined;
  }

  recordAttempt(id: number, a: DeliveryAttempt): void {
    const state: DeliveryState = a.next === 'delivered' ? 'delivered' : a.next === 'dead' ? 'dead' : 'pending';
    const nextAt = typeof a.next === 'object' ? a.next.retryAt : null;
    this.#s.attempt.run({ id, state, at: a.at, status: a.status, error: a.error?.slice(0, 500) ?? null, nextAt });
  }

  listDeliveries(state: DeliveryState | undefined, limit: number): WebhookDelivery[] {
    const rows = state ? this.#s.listState.all(state, limit) : this.#s.list.all(limit);
    return (rows as DeliveryRow[]).map(toDelivery);
  }

  delivery(id: number): WebhookDelivery | undefined {
    const row = this.#s.delivery.get(id) as DeliveryRow | undefined;
    return row && toDelivery(row);
  }

  /** A dead delivery back to pending with a fresh budget; false when it is not dead. */
  replay(id: number, at: number): boolean {
    return this.#s.replay.run({ id, at }).changes === 1;
  }

  outboxStats(): OutboxStats[] {
    return this.#s.stats.all() as OutboxStats[];
  }

  /** Which of `messageIds` are Message-IDs of email mailsync queued (the Pending Send queue). */
  outgoingMessageIds(messageIds: readonly string[]): string[] {
    if (messageIds.length === 0) return [];
    return (this.#s.outgoingIds.all(JSON.stringify(messageIds)) as { id: string }[]).map((r) => r.id);
  }
}

/** A: a change_feed row as both drivers read it, and its mapping. */
export interface ChangeRow { seq: number; at: number; kind: ChangeKind; mailbox_id: string; ref_id: number | null; data: string }

export function toChange(r: ChangeRow): Change {
  return { seq: r.seq, at: r.at, kind: r.kind, mailboxId: r.mailbox_id, refId: r.ref_id, data: JSON.parse(r.data) as Record<string, unknown>, [DATA_JSON]: r.data };
}

export interface DeliveryRow {
  id: number; webhook_id: string; seq: number; state: DeliveryState; attempts: number; created_at: number;
  next_attempt_at: number | null; last_attempt_at: number | null; last_status: number | null; last_error: string | null;
  delivered_at: number | null;
}

export function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id, webhookId: r.webhook_id, seq: r.seq, state: r.state, attempts: r.attempts, createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at, lastAttemptAt: r.last_attempt_at, lastStatus: r.last_status, lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
}

const DELIVERY_COLUMNS = `id, webhook_id, seq, state, attempts, created_at, next_attempt_at, last_attempt_at, last_status,
  last_error, delivered_at`;

function prepare(db: Database.Database) {
  return {
    append: db.prepare('INSERT INTO change_feed (at, kind, mailbox_id, ref_id, data) VALUES (?, ?, ?, ?, ?)'),
    outbox: db.prepare(`INSERT INTO webhook_delivery (webhook_id, seq, state, next_attempt_at, created_at)
      VALUES (@webhookId, @seq, 'pending', @at, @at)`),
    after: db.prepare('SELECT seq, at, kind, mailbox_id, ref_id, data FROM change_feed WHERE seq > ? ORDER BY seq LIMIT ?'),
    one: db.prepare('SELECT seq, at, kind, mailbox_id, ref_id, data FROM change_feed WHERE seq = ?'),
    maxSeq: db.prepare('SELECT max(seq) AS seq FROM change_feed'),
    prune: db.prepare(`DELETE FROM change_feed WHERE (at < @before OR seq <= @floor)
      AND seq NOT IN (SELECT seq FROM webhook_delivery WHERE state != 'delivered')`),
    pruneDelivered: db.prepare(`DELETE FROM webhook_delivery WHERE state = 'delivered'
      AND seq NOT IN (SELECT seq FROM change_feed)`),
    due: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE webhook_id = ? AND state = 'pending'
      AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`),
    lease: db.prepare('UPDATE webhook_delivery SET next_attempt_at = ? WHERE id = ?'),
    dropRemoved: db.prepare(`DELETE FROM webhook_delivery WHERE state = 'pending'
      AND webhook_id NOT IN (SELECT value FROM json_each(?))`),
    nextDue: db.prepare(`SELECT min(next_attempt_at) AS at FROM webhook_delivery WHERE state = 'pending'
      AND webhook_id IN (SELECT value FROM json_each(?))`),
    attempt: db.prepare(`UPDATE webhook_delivery SET state = @state, attempts = attempts + 1, last_attempt_at = @at,
      last_status = @status, last_error = @error, next_attempt_at = @nextAt,
      delivered_at = CASE WHEN @state = 'delivered' THEN @at ELSE delivered_at END WHERE id = @id`),
    list: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery ORDER BY id DESC LIMIT ?`),
    listState: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE state = ? ORDER BY id DESC LIMIT ?`),
    delivery: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE id = ?`),
    replay: db.prepare(`UPDATE webhook_delivery SET state = 'pending', attempts = 0, next_attempt_at = @at
      WHERE id = @id AND state = 'dead'`),
    stats: db.prepare(`SELECT webhook_id AS webhookId, sum(state = 'pending') AS pending, sum(state = 'dead') AS dead,
      min(CASE WHEN state = 'pending' THEN created_at END) AS oldestPendingAt
      FROM webhook_delivery WHERE state != 'delivered' GROUP BY webhook_id`),
    outgoingIds: db.prepare(`SELECT message_id AS id FROM outgoing_email
      WHERE message_id IN (SELECT value FROM json_each(?))`),
  };
}
