import pg from 'pg';
import { currentFence, FencedError, type Fence } from '../fence.js';
import type { ChangeInput } from '../feed-types.js';
import { isRetryable, storeFault } from './faults.js';

/** Values a statement takes: what node-postgres serialises. */
export type Values = readonly unknown[];

/** One open transaction as the modules write through it. */
export interface Tx {
  query<R extends pg.QueryResultRow>(sql: string, values?: Values): Promise<R[]>;
  /** Queues a change for the feed: numbered and written as the transaction's last statements (feed.ts). */
  append(change: ChangeInput): void;
}

/**
 * What every module of the driver reads and writes through: the pool outside a transaction, the
 * transaction's one client inside `Store.transaction`. `write` is the ONE way anything is
 * written, so the fence check (design: fencing travels in fenceContext) cannot be forgotten.
 */
export interface Db {
  read<R extends pg.QueryResultRow>(sql: string, values?: Values): Promise<R[]>;
  /** Positional rows (the scrape reads thousands; no object per row). */
  readArrays<R extends unknown[]>(sql: string, values?: Values): Promise<R[]>;
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** Runs the feed's queued changes as the last statements before COMMIT (feed.ts: flushChanges). */
export type FlushChanges = (query: Tx['query'], changes: ChangeInput[]) => Promise<void>;

/**
 * Under a lease, the runner proves in the writing transaction that it still holds it. FOR SHARE
 * keeps the lease row locked until COMMIT, so a takeover (an UPDATE of that row) waits for this
 * commit to end: a commit cannot interleave with a takeover. The database's clock decides expiry.
 */
const FENCE_SQL = `SELECT 1 FROM leases WHERE mailbox_id = $1 AND direction = $2 AND runner = $3 AND token = $4
  AND expires_at > clock_timestamp() FOR SHARE`;

async function checkFence(client: pg.ClientBase, fence: Fence): Promise<void> {
  const found = await client.query(FENCE_SQL, [fence.mailboxId, fence.direction, fence.runner, fence.token]);
  if (found.rowCount === 0) throw new FencedError(fence);
}

/** An open transaction on one pooled client: BEGIN done; the fence checked before its first write. */
export class OpenTx implements Tx {
  readonly changes: ChangeInput[] = [];
  #fenced = false;

  constructor(readonly client: pg.PoolClient, readonly where: string) {}

  async query<R extends pg.QueryResultRow>(sql: string, values?: Values): Promise<R[]> {
    try {
      return (await this.client.query<R>(sql, values as unknown[])).rows;
    } catch (error) {
      throw storeFault(error, this.where);
    }
  }

  async arrays<R extends unknown[]>(sql: string, values?: Values): Promise<R[]> {
    try {
      return (await this.client.query<R>({ text: sql, values: values as unknown[], rowMode: 'array' })).rows;
    } catch (error) {
      throw storeFault(error, this.where);
    }
  }

  append(change: ChangeInput): void {
    this.changes.push(change);
  }

  /** Once per transaction: the lock FOR SHARE holds until it ends, so one check covers its writes. */
  async fence(): Promise<void> {
    const fence = currentFence();
    if (this.#fenced || fence === undefined) return;
    await checkFence(this.client, fence).catch((error: unknown) => { throw storeFault(error, this.where); });
    this.#fenced = true;
  }
}

/**
 * The pool and the transactions taken from it. A client whose BEGIN..COMMIT failed half-way is
 * released as broken (destroyed, not reused), so a terminated backend never serves the next caller.
 */
export class Connection {
  readonly pool: pg.Pool;
  readonly where: string;
  readonly #flush: FlushChanges;
  /** Called after a commit that wrote changes (the in-process notifier; NOTIFY covers other runners). */
  readonly #committed: () => void;

  constructor(pool: pg.Pool, where: string, flush: FlushChanges, committed: () => void) {
    this.pool = pool;
    this.where = where;
    this.#flush = flush;
    this.#committed = committed;
  }

  /** The pool-backed Db: each write is its own transaction. */
  root(): Db {
    return {
      read: async (sql, values) => {
        try {
          return (await this.pool.query(sql, values as unknown[])).rows;
        } catch (error) {
          throw storeFault(error, this.where);
        }
      },
      readArrays: async <R extends unknown[]>(sql: string, values?: Values) => {
        try {
          return (await this.pool.query<R>({ text: sql, values: values as unknown[], rowMode: 'array' })).rows;
        } catch (error) {
          throw storeFault(error, this.where);
        }
      },
      write: (fn) => this.transaction(async (tx) => { await tx.fence(); return fn(tx); }, true),
    };
  }

  /** A Db bound to an open transaction: reads and writes on its client, writes fenced once. */
  bound(tx: OpenTx): Db {
    return {
      read: (sql, values) => tx.query(sql, values),
      readArrays: (sql, values) => tx.arrays(sql, values),
      write: async (fn) => { await tx.fence(); return fn(tx); },
    };
  }

  /**
   * BEGIN, `body`, the feed's queued changes, COMMIT, on one client. `retry`: a deadlock or a
   * serialization failure (40P01, 40001: another runner's transaction won a race; PostgreSQL rolled
   * this one back) runs it once more from the start. Only the driver's own writes ask for it: their
   * bodies are SQL and nothing else. A caller's `Store.transaction(fn)` is not retried, since `fn`
   * may change the caller's own state (the outgoing cycle advances its queue in it); it fails, and
   * the cycle's work is done again by the next cycle like any store fault.
   */
  async transaction<T>(body: (tx: OpenTx) => Promise<T>, retry = false): Promise<T> {
    try {
      return await this.#once(body);
    } catch (error) {
      if (!retry || !isRetryable(error)) throw error;
      return this.#once(body);
    }
  }

  async #once<T>(body: (tx: OpenTx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeFault(error, this.where);
    }
    const tx = new OpenTx(client, this.where);
    let broken: Error | undefined;
    try {
      await tx.query('BEGIN');
      const result = await body(tx);
      if (tx.changes.length > 0) await this.#flush((sql, values) => tx.query(sql, values), tx.changes);
      await tx.query('COMMIT');
      if (tx.changes.length > 0) this.#committed();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => { broken = rollback as Error; });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
