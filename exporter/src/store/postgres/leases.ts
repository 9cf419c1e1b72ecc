import type { Direction } from '../types.js';
import type { Lease, LeaseKey, LeaseRow, LeaseStore } from '../lease-types.js';

/** What the lease store needs of a connection pool: `pg.Pool` and `pg.Client` both have it. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** A runner not seen for this long is forgotten (ids of pods that are gone); the live count needs only the TTL. */
const FORGET_RUNNERS_AFTER = "interval '1 day'";

const MS = "* interval '1 millisecond'";

/**
 * F: the channel on which a runner says that the leases' division changed: it joined (its
 * heartbeat came after none within the TTL) or it released leases. The payload is its id. Every
 * other runner's keeper makes a round on it, so a joining runner gets its share, and released
 * leases a holder, within a round trip instead of a third of the lease period later.
 */
export const LEASES_CHANNEL = 'mailsync_leases';
const EPOCH_MS = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * B: leases on PostgreSQL, shared by every runner of one database. Expiry is the database's clock
 * (`clock_timestamp()`), never a runner's. A claim takes free or expired rows with `FOR UPDATE SKIP
 * LOCKED` (the pattern of pg-boss and graphile-worker): runners claiming at once each get other rows
 * instead of waiting on each other, and a row a fenced commit holds `FOR KEY SHARE` is skipped
 * until that commit ends (FOR UPDATE is what conflicts with it; a renewal's UPDATE does not). Every new holder bumps the row's token, the fencing token of store/fence.ts.
 */
export class PgLeaseStore implements LeaseStore {
  readonly #pool: Queryable;
  readonly #listeners: ((from: string) => void)[] = [];

  constructor(pool: Queryable) {
    this.#pool = pool;
  }

  onRebalance(listener: (from: string) => void): void {
    this.#listeners.push(listener);
  }

  /** A notification on LEASES_CHANNEL (the store's listening connection hands it here). */
  notified(from: string): void {
    for (const listen of this.#listeners) listen(from);
  }

  async heartbeat(runner: string, ttlMs: number): Promise<number> {
    // One statement: every part of it sees the row as it was before, so "not live before" is
    // read and the heartbeat written at once; the notification goes out when it commits.
    await this.#pool.query(`WITH before AS (SELECT seen_at FROM runners WHERE id = $1),
      beat AS (INSERT INTO runners (id, started_at, seen_at) VALUES ($1, clock_timestamp(), clock_timestamp())
        ON CONFLICT (id) DO UPDATE SET seen_at = clock_timestamp() RETURNING id)
      SELECT pg_notify('${LEASES_CHANNEL}', beat.id) FROM beat
      WHERE NOT EXISTS (SELECT 1 FROM before WHERE seen_at > clock_timestamp() - $2::bigint ${MS})`, [runner, ttlMs]);
    await this.#pool.query(`DELETE FROM runners WHERE seen_at < clock_timestamp() - ${FORGET_RUNNERS_AFTER}`);
    const { rows } = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runners WHERE seen_at > clock_timestamp() - $1::bigint ${MS}`, [ttlMs]);
    return Math.max(1, rows[0]?.n ?? 1);
  }

  async claim(runner: string, wanted: readonly LeaseKey[], limit: number, ttlMs: number): Promise<Lease[]> {
    if (wanted.length === 0 || limit <= 0) return [];
    const [ids, directions] = columns(wanted);
    // Rows first, outside the claim: a direction nobody ever held has no row to lock yet.
    await this.#pool.query(`INSERT INTO leases (mailbox_id, direction, runner, token, expires_at)
      SELECT w.mailbox_id, w.direction, NULL, 0, clock_timestamp() FROM unnest($1::text[], $2::text[]) AS w(mailbox_id, direction)
      ON CONFLICT (mailbox_id, direction) DO NOTHING`, [ids, directions]);
    // Free rows first, then those expired longest ago: a direction waits for a holder as little as can be.
    const { rows } = await this.#pool.query<ClaimRow>(`WITH free AS (
        SELECT l.mailbox_id, l.direction, l.runner AS previous FROM leases l
        JOIN unnest($1::text[], $2::text[]) AS w(mailbox_id, direction) USING (mailbox_id, direction)
        WHERE l.runner IS NULL OR l.expires_at <= clock_timestamp()
        ORDER BY l.runner IS NOT NULL, l.expires_at, l.mailbox_id, l.direction
        LIMIT $3 FOR UPDATE OF l SKIP LOCKED)
      UPDATE leases l SET runner = $4, token = l.token + 1, expires_at = clock_timestamp() + $5::bigint ${MS}
      FROM free WHERE l.mailbox_id = free.mailbox_id AND l.direction = free.direction
      RETURNING l.mailbox_id, l.direction, l.token::float8 AS token, ${EPOCH_MS('l.expires_at')} AS expires_at, free.previous`,
    [ids, directions, limit, runner, ttlMs]);
    return rows.map((r) => ({ ...lease(r), previousRunner: r.previous }));
  }

  async renew(runner: string, leases: readonly Lease[], ttlMs: number): Promise<Lease[]> {
    if (leases.length === 0) return [];
    const [ids, directions] = columns(leases);
    // Only while held AND unexpired: past its expiry a lease may already be another runner's in
    // that runner's view, so extending it would let two runners believe they hold it.
    const { rows } = await this.#pool.query<LeaseDbRow>(`UPDATE leases l SET expires_at = clock_timestamp() + $5::bigint ${MS}
      FROM unnest($1::text[], $2::text[], $3::bigint[]) AS w(mailbox_id, direction, token)
      WHERE l.mailbox_id = w.mailbox_id AND l.direction = w.direction AND l.token = w.token
        AND l.runner = $4 AND l.expires_at > clock_timestamp()
      RETURNING l.mailbox_id, l.direction, l.token::float8 AS token, ${EPOCH_MS('l.expires_at')} AS expires_at`,
    [ids, directions, leases.map((l) => l.token), runner, ttlMs]);
    return rows.map(lease);
  }

  async release(runner: string, leases: readonly LeaseKey[]): Promise<void> {
    if (leases.length === 0) return;
    const [ids, directions] = columns(leases);
    // The token stays: the next holder bumps it, so this runner's late writes are still refused.
    await this.#pool.query(`WITH freed AS (UPDATE leases l SET runner = NULL, expires_at = clock_timestamp()
        FROM unnest($1::text[], $2::text[]) AS w(mailbox_id, direction)
        WHERE l.mailbox_id = w.mailbox_id AND l.direction = w.direction AND l.runner = $3 RETURNING 1)
      SELECT pg_notify('${LEASES_CHANNEL}', $3) WHERE EXISTS (SELECT 1 FROM freed)`, [ids, directions, runner]);
  }

  async leave(runner: string): Promise<void> {
    await this.#pool.query(`WITH gone AS (DELETE FROM runners WHERE id = $1 RETURNING id)
      SELECT pg_notify('${LEASES_CHANNEL}', gone.id) FROM gone`, [runner]);
  }

  async list(): Promise<LeaseRow[]> {
    const { rows } = await this.#pool.query<LeaseDbRow & { runner: string | null; live: boolean }>(
      `SELECT mailbox_id, direction, runner, token::float8 AS token, ${EPOCH_MS('expires_at')} AS expires_at,
        (runner IS NOT NULL AND expires_at > clock_timestamp()) AS live FROM leases ORDER BY mailbox_id, direction`);
    return rows.map((r) => ({ ...lease(r), runner: r.runner, live: r.live }));
  }
}

interface LeaseDbRow { mailbox_id: string; direction: Direction; token: number; expires_at: number }
interface ClaimRow extends LeaseDbRow { previous: string | null }

function lease(r: LeaseDbRow): Lease {
  return { mailboxId: r.mailbox_id, direction: r.direction, token: Number(r.token), expiresAt: Number(r.expires_at) };
}

function columns(keys: readonly LeaseKey[]): [string[], string[]] {
  return [keys.map((k) => k.mailboxId), keys.map((k) => k.direction)];
}
