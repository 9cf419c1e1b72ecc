import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store, StoreCheckReport, StoreTx } from '../store.js';
import type { CompactionReport } from '../packs/compact.js';
import { ChangeNotifier } from '../notifier.js';
import { Connection, type Db } from './connection.js';
import { storeFault } from './faults.js';
import { flushChanges, PgFeed, Subscriptions } from './feed.js';
import { PgAct } from './act.js';
import { PgDefinitionStore } from './definitions.js';
import { LEASES_CHANNEL, PgLeaseStore } from './leases.js';
import { PgLifecycle } from './lifecycle.js';
import { FeedListener, type ChannelHandler } from './listen.js';
import { PgMail } from './mail.js';
import { migrate, PG_MIGRATIONS } from './migrations.js';
import { OUTGOING_CHANNEL, PgOutgoing } from './outgoing.js';
import { clientConfig, openPool, type PgConnectionOptions } from './pool.js';
import { PgPop3 } from './pop3.js';
import { PgRuns } from './runs.js';
import { PgTokens } from './tokens.js';

export interface PostgresOptions extends PgConnectionOptions {
  /** This runner's id, recorded on the runs it opens. Default: `<hostname>-<pid>`. */
  runner?: string | undefined;
  /** Where an idle pooled connection's failure is reported (it is dropped and replaced either way). */
  onIdleError?: ((error: Error) => void) | undefined;
  /** Migrations to apply (tests add some); default: all of PG_MIGRATIONS. */
  migrations?: readonly string[] | undefined;
}

type Parts = Omit<StoreTx, 'changes' | 'transaction' | 'schemaVersion' | 'definitions'>;

function parts(db: Db, subscriptions: Subscriptions, runner: string): Parts {
  return {
    mail: new PgMail(db), runs: new PgRuns(db, runner), lifecycle: new PgLifecycle(db), outgoing: new PgOutgoing(db),
    pop3: new PgPop3(db), act: new PgAct(db), tokens: new PgTokens(db), feed: new PgFeed(db, subscriptions),
  };
}

const PAGE = 200;

/**
 * The shared store: one PostgreSQL database that several runners use at once. Each module writes
 * through Connection (one transaction per write, the fence checked in it, the feed numbered at
 * commit); `transaction(fn)` binds the same modules to one pooled client for its duration.
 */
export class PostgresStore implements Store {
  readonly mail;
  readonly runs;
  readonly lifecycle;
  readonly outgoing;
  readonly pop3;
  readonly act;
  readonly tokens;
  readonly feed;
  /** C: definitions write on the pool, or on the transaction's client inside `transaction(fn)`. */
  readonly definitions;
  /** B: leases are never part of a caller's transaction: a renewal must not wait on a cycle's commit. */
  readonly leases;
  readonly changes = new ChangeNotifier();
  readonly runner: string;
  readonly #connection: Connection;
  readonly #subscriptions = new Subscriptions();
  readonly #listener: FeedListener;
  readonly #queued = new Set<(mailboxId: string) => void>();
  readonly #migrations: readonly string[];

  private constructor(options: PostgresOptions) {
    this.runner = options.runner ?? `${hostname()}-${process.pid}`;
    const connect = { ...options, applicationName: `mailsync:${this.runner}`.slice(0, 63) };
    const { pool, where } = openPool(connect, options.onIdleError ?? (() => undefined));
    this.#connection = new Connection(pool, where, flushChanges(this.#subscriptions), () => this.changes.changed());
    // The lease keepers' and the outgoing queue's channels ride on the feed's listening connection.
    this.#listener = new FeedListener(clientConfig(connect), () => this.changes.changed(), new Map<string, ChannelHandler>([
      [LEASES_CHANNEL, (from) => this.leases.notified(from)],
      // An empty payload is the listener's (re)connect: nothing was queued by it.
      [OUTGOING_CHANNEL, (mailboxId) => {
        if (mailboxId !== '') for (const listener of [...this.#queued]) listener(mailboxId);
      }],
    ]));
    this.#migrations = options.migrations ?? PG_MIGRATIONS;
    const p = parts(this.#connection.root(), this.#subscriptions, this.runner);
    this.mail = p.mail;
    this.runs = p.runs;
    this.lifecycle = p.lifecycle;
    this.outgoing = p.outgoing;
    this.pop3 = p.pop3;
    this.act = p.act;
    this.tokens = p.tokens;
    this.feed = p.feed;
    this.definitions = new PgDefinitionStore(pool);
    this.leases = new PgLeaseStore(pool);
  }

  /** Connects, migrates (once across runners starting together) and starts listening for other runners' changes. */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await migrate(store.#connection.pool, store.#migrations).catch((error: unknown) => {
        throw storeFault(error, store.#connection.where);
      });
      await store.#listener.start();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The pool, for B's lease store and C's definitions store (the lead wires them at merge). */
  get pool() {
    return this.#connection.pool;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#connection.transaction((open) => {
      const db = this.#connection.bound(open);
      const view: StoreTx = {
        ...parts(db, this.#subscriptions, this.runner),
        definitions: new PgDefinitionStore(open.client),
        changes: this.changes,
        // Nested: already atomic within the outer transaction.
        transaction: (inner) => inner(view),
        schemaVersion: () => this.#version(db),
      };
      return fn(view);
    });
  }

  schemaVersion(): Promise<number> {
    return this.#version(this.#connection.root());
  }

  /** Nothing to compact: raw bytes live in their rows, and PostgreSQL's autovacuum reclaims what is deleted. */
  compact(): Promise<CompactionReport> {
    return Promise.resolve({ packs: 0, removed: 0, truncatedBytes: 0, rewritten: 0, freedBytes: 0 });
  }

  /** Every email's bytes against its SHA-256, a page at a time; the database's own checks are its operator's (amcheck). */
  async check(progress: (done: number, total: number) => void): Promise<StoreCheckReport> {
    const db = this.#connection.root();
    const report: StoreCheckReport = { integrity: [], emails: 0, inPacks: 0, problems: [], unreferencedBytes: 0 };
    const total = (await db.read<{ n: number }>('SELECT count(*) AS n FROM email'))[0]?.n ?? 0;
    for (let after = 0; ;) {
      const rows = await db.read<{ id: number; mailbox_id: string; content_sha256: Buffer; raw: Buffer }>(
        'SELECT id, mailbox_id, content_sha256, raw FROM email WHERE id > $1 ORDER BY id LIMIT $2', [after, PAGE]);
      if (rows.length === 0) break;
      for (const row of rows) {
        report.emails += 1;
        const sha = createHash('sha256').update(row.raw).digest();
        if (!sha.equals(row.content_sha256)) {
          report.problems.push(`email ${row.id} (mailbox ${row.mailbox_id}): SHA-256 of the bytes is ${sha.toString('hex')}, the row says ${row.content_sha256.toString('hex')}`);
        }
      }
      after = (rows[rows.length - 1] as { id: number }).id;
      progress(report.emails, total);
    }
    return report;
  }

  /** Heard on the listening connection: every runner's queue() notifies at its commit (outgoing.ts). */
  onOutgoingQueued(listener: (mailboxId: string) => void): () => void {
    this.#queued.add(listener);
    return () => this.#queued.delete(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
    await this.#connection.pool.end().catch(() => undefined);
  }

  async #version(db: Db): Promise<number> {
    return (await db.read<{ version: number }>('SELECT version FROM mailsync_schema'))[0]?.version ?? 0;
  }
}
