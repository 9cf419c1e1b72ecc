import { createHash } from 'node:crypto';
import pg from 'pg';
import { currentFence, FencedError, type Fence } from '../fence.js';
import type { ChangeInput } from '../feed-types.js';
import { isRetryable, storeFault } from './faults.js';
import { inOneWrite } from './one-write.js';

/** Values a statement takes: what node-postgres serialises. */
export type Values = readonly unknown[];

/** A statement PostgreSQL parses and plans once per connection (a named prepared statement). */
export interface Prepared {
  readonly text: string;
  readonly name: string;
}

/** What a module hands the driver: a statement's text, or one prepared once per connection. */
export type Sql = string | Prepared;

/**
 * The hot statements of a cycle (its run's start and end, the state read, the fence check, the
 * feed's statement, cursors and locations) are prepared: PostgreSQL then skips parsing and
 * planning them at every call, which halved the backend's CPU a call and cut the runner's by a
 * quarter (4,000 calls of a run's start and a state read, three rounds, named against unnamed).
 * bench:scale at 3,000: PostgreSQL's CPU in an initial sync fell by a third to two fifths with the
 * statement and round-trip changes of the same day (docs/scaling.md). Only fixed texts: a
 * statement whose text varies (a VALUES list as long as a batch) would leave a statement per
 * length on every connection, and none reads `*`, whose cached plan fails once a migration adds a
 * column. The name comes from the text, so a name always means the same statement everywhere.
 */
export function prepared(text: string): Prepared {
  return { text, name: `mailsync_${createHash('sha256').update(text).digest('hex').slice(0, 16)}` };
}

function config(sql: Sql, values: Values | undefined, rowMode?: 'array'): pg.QueryConfig {
  return { ...(typeof sql === 'string' ? { text: sql } : sql), values: values as unknown[], ...(rowMode ? { rowMode } : {}) };
}

/**
 * A write that is one statement, as its own transaction, with the fence checked inside it: its
 * first CTE locks the lease row FOR KEY SHARE (as the transaction's check does, FENCE_SQL) and
 * each of its writes runs only if that found the lease held. A run's start and end are such writes,
 * two of a cycle's few: BEGIN with the fence, the statement and COMMIT were three round trips
 * and four statements each, on both sides of a machine the runners share with PostgreSQL. `plain`
 * is the same statement for a write made outside a lease (or inside an open transaction).
 */
export interface GuardedWrite {
  readonly plain: Prepared;
  readonly fenced: Prepared;
}

/**
 * `text(fence, held)` writes the statement: it starts `WITH ${fence}` and guards every write with
 * `held` (a boolean expression); its own values are $1..$params, the fence's follow them.
 */
export function guardedWrite(params: number, text: (fence: string, held: string) => string): GuardedWrite {
  const fence = `fence AS (${leaseHeld(params + 1)}), `;
  return { plain: prepared(text('', 'true')), fenced: prepared(text(fence, 'EXISTS (SELECT 1 FROM fence)')) };
}

/** The lease check, whose four values (mailbox, direction, runner, token) are $first..$first+3. */
function leaseHeld(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `SELECT 1 FROM leases WHERE mailbox_id = ${p(0)} AND direction = ${p(1)} AND runner = ${p(2)} AND token = ${p(3)}
    AND expires_at > clock_timestamp() FOR KEY SHARE`;
}

/** A deadlock or serialization failure (another runner's transaction won a race) runs `fn` once more. */
async function onceMoreIfRetryable<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!isRetryable(error)) throw error;
    return fn();
  }
}

/** One open transaction as the modules write through it. */
export interface Tx {
  query<R extends pg.QueryResultRow>(sql: Sql, values?: Values): Promise<R[]>;
  /** Queues a change for the feed: numbered and written as the transaction's last statements (feed.ts). */
  append(change: ChangeInput): void;
}

/**
 * What every module of the driver reads and writes through: the pool outside a transaction, the
 * transaction's one client inside `Store.transaction`. `write` is the ONE way anything is
 * written, so the fence check (design: fencing travels in fenceContext) cannot be forgotten.
 */
export interface Db {
  read<R extends pg.QueryResultRow>(sql: Sql, values?: Values): Promise<R[]>;
  /** Positional rows (the scrape reads thousands; no object per row). */
  readArrays<R extends unknown[]>(sql: Sql, values?: Values): Promise<R[]>;
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * One guarded statement: its rows, or FencedError when it wrote nothing because the lease is not
   * held. No rows under a held lease is the statement's own answer (what it updates is not there).
   */
  writeOne<R extends pg.QueryResultRow>(write: GuardedWrite, values: Values): Promise<R[]>;
}

/** The statement that writes the feed's queued changes, the last before COMMIT (feed.ts: flushChanges). */
export type FlushChanges = (changes: ChangeInput[]) => { sql: Sql; values: Values };

/**
 * Under a lease, the runner proves in the writing transaction that it still holds it. FOR KEY
 * SHARE keeps the lease row locked until COMMIT against a takeover, which takes its rows FOR UPDATE
 * (leases.ts: claim), so a commit cannot interleave with a takeover. It does not hold up the
 * holder's own renewal (an UPDATE of expires_at only), as FOR SHARE did: a renewal of a thousand
 * leases waited on every fenced commit in flight, and every fence check of them then waited on
 * the renewal (0.8 ms a check, 67 ms a renewal, 3 runners at 1,000 mailboxes). The database's
 * clock decides expiry.
 */
const FENCE_SQL = prepared(leaseHeld(1));

async function checkFence(client: pg.ClientBase | pg.Pool, fence: Fence): Promise<void> {
  const found = await client.query(config(FENCE_SQL, [fence.mailboxId, fence.direction, fence.runner, fence.token]));
  if (found.rowCount === 0) throw new FencedError(fence);
}

/** An open transaction on one pooled client: BEGIN done; the fence checked before its first write. */
export class OpenTx implements Tx {
  readonly changes: ChangeInput[] = [];
  #fenced = false;

  constructor(readonly client: pg.PoolClient, readonly where: string) {}

  async query<R extends pg.QueryResultRow>(sql: Sql, values?: Values): Promise<R[]> {
    try {
      return (await this.client.query<R>(config(sql, values))).rows;
    } catch (error) {
      throw storeFault(error, this.where);
    }
  }

  async arrays<R extends unknown[]>(sql: Sql, values?: Values): Promise<R[]> {
    try {
      return (await this.client.query<R>(config(sql, values, 'array'))).rows;
    } catch (error) {
      throw storeFault(error, this.where);
    }
  }

  append(change: ChangeInput): void {
    this.changes.push(change);
  }

  /** Once per transaction: the lock FOR KEY SHARE holds until it ends, so one check covers its writes. */
  async fence(): Promise<void> {
    const fence = currentFence();
    if (this.#fenced || fence === undefined) return;
    await checkFence(this.client, fence).catch((error: unknown) => { throw storeFault(error, this.where); });
    this.#fenced = true;
  }

  /**
   * BEGIN; for a write under a lease, with its fence check sent right behind it on the pipelined
   * client (pool.ts), so both cost one round trip: the driver's own writes are most of a cycle's
   * statements (pg_stat_statements: 17 a no-change cycle before), and on a machine the runners share
   * with PostgreSQL each round trip costs both processes CPU. A failed BEGIN fails the check too.
   */
  async begin(fenced: boolean): Promise<void> {
    const fence = fenced ? currentFence() : undefined;
    if (fence === undefined) {
      await this.query('BEGIN');
      return;
    }
    const [begun, checked] = await inOneWrite(this.client, () => this.query('BEGIN'), () => checkFence(this.client, fence));
    if (begun.status === 'rejected') throw begun.reason;
    if (checked.status === 'rejected') throw storeFault(checked.reason, this.where);
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
          return (await this.pool.query(config(sql, values))).rows;
        } catch (error) {
          throw storeFault(error, this.where);
        }
      },
      readArrays: async <R extends unknown[]>(sql: Sql, values?: Values) => {
        try {
          return (await this.pool.query<R>(config(sql, values, 'array'))).rows;
        } catch (error) {
          throw storeFault(error, this.where);
        }
      },
      write: (fn) => this.transaction(fn, true, true),
      writeOne: (write, values) => this.#writeOne(write, values),
    };
  }

  /** A guarded statement on the pool, run once more after a deadlock or serialization failure as the driver's transactions are. */
  async #writeOne<R extends pg.QueryResultRow>(write: GuardedWrite, values: Values): Promise<R[]> {
    const fence = currentFence();
    const once = async (): Promise<R[]> => {
      const { rows } = await this.pool.query<R>(fence === undefined ? config(write.plain, values)
        : config(write.fenced, [...values, fence.mailboxId, fence.direction, fence.runner, fence.token]));
      // Nothing written: either the lease is gone (then say so) or there was nothing to write.
      if (rows.length === 0 && fence !== undefined) await checkFence(this.pool, fence);
      return rows;
    };
    try {
      return await onceMoreIfRetryable(once);
    } catch (error) {
      throw storeFault(error, this.where);
    }
  }

  /** A Db bound to an open transaction: reads and writes on its client, writes fenced once. */
  bound(tx: OpenTx): Db {
    return {
      read: (sql, values) => tx.query(sql, values),
      readArrays: (sql, values) => tx.arrays(sql, values),
      write: async (fn) => { await tx.fence(); return fn(tx); },
      writeOne: async (write, values) => { await tx.fence(); return tx.query(write.plain, values); },
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
  async transaction<T>(body: (tx: OpenTx) => Promise<T>, retry = false, fenced = false): Promise<T> {
    return retry ? onceMoreIfRetryable(() => this.#once(body, fenced)) : this.#once(body, fenced);
  }

  /**
   * The feed's statement and COMMIT sent together on the pipelined client (pool.ts): PostgreSQL
   * commits as soon as the flush is done, so the feed counter's lock is not held across a round
   * trip to a runner that may be waiting for a core. After a failed flush PostgreSQL answers that
   * COMMIT with ROLLBACK; the flush's error is what throws.
   */
  async #flushAndCommit(tx: OpenTx): Promise<void> {
    const { sql, values } = this.#flush(tx.changes);
    const [flushed, committed] = await inOneWrite(tx.client, () => tx.query(sql, values), () => tx.client.query('COMMIT'));
    if (flushed.status === 'rejected') throw flushed.reason;
    if (committed.status === 'rejected') throw storeFault(committed.reason, this.where);
    if (committed.value.command !== 'COMMIT') throw new Error(`the feed's transaction ended in ${committed.value.command}, not COMMIT`);
  }

  /** `fenced`: the body writes from its first statement, so the fence is checked with BEGIN (a caller's transaction checks it at its first write). */
  async #once<T>(body: (tx: OpenTx) => Promise<T>, fenced: boolean): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeFault(error, this.where);
    }
    const tx = new OpenTx(client, this.where);
    let broken: Error | undefined;
    try {
      await tx.begin(fenced);
      const result = await body(tx);
      if (tx.changes.length > 0) {
        await this.#flushAndCommit(tx);
        this.#committed();
      } else {
        await tx.query('COMMIT');
      }
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => { broken = rollback as Error; });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
