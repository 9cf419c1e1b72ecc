import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { MailStore, Store, StoreCheckReport, StoreTx } from '../store.js';
import type { CompactionReport } from '../packs/compact.js';
import { storageFaults } from './faults.js';
import { promised, TransactionGate } from './gate.js';
import { SqliteAct } from './act.js';
import { ChangeNotifier } from '../notifier.js';
import { SqliteFeed } from './feed.js';
import { SqliteLifecycle } from './lifecycle.js';
import { SqliteMail } from './mail.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteOutgoing } from './outgoing.js';
import { BACKSTOP_PAGES, Checkpointer } from './checkpointer.js';
import { SqlitePop3 } from './pop3.js';
import { SqlitePacks } from './packs.js';
import { RawBytes } from './raw-bytes.js';
import { SqliteRuns } from './runs.js';
import { SoleRunnerLeases } from './leases.js';
import { SqliteTokens } from './tokens.js';
import { SqliteDefinitions } from './definitions.js';

export interface SqliteOptions {
  /** ':memory:' for tests. */
  path: string;
  /**
   * Where raw messages are written (pack files). Default: `<path>.packs`, next to the SQLite file;
   * null keeps them inline in the rows (the default for ':memory:').
   */
  packDir?: string | null;
  /**
   * B: 'background' checkpoints the WAL from a worker thread (checkpointer.ts); 'inline' (the
   * default) leaves it to SQLite's auto-checkpoint in the writing connection. Not the default yet:
   * with it, a runner serving HTTPS (test/integration/web-config.test.ts) did not finish its
   * graceful stop, for a reason not found (docs/decisions.md).
   */
  checkpoints?: 'background' | 'inline';
}

/** The default pack directory of a store file: next to it. */
export function defaultPackDir(file: string): string | null {
  return file === ':memory:' ? null : `${file}.packs`;
}

/** The embedded store: one SQLite file in WAL mode, numbered migrations, typed statements per concern. */
export class SqliteStore implements Store {
  readonly mail;
  readonly runs;
  readonly lifecycle;
  readonly outgoing;
  readonly pop3;
  readonly act;
  readonly tokens;
  readonly feed;
  readonly definitions;
  readonly changes = new ChangeNotifier();
  /** B: one runner per SQLite file, so it holds every lease (store/sqlite/leases.ts). */
  readonly leases = new SoleRunnerLeases();
  readonly #db: Database.Database;
  readonly #gate = new TransactionGate();
  readonly #tx: StoreTx;
  readonly #raw: RawBytes;
  /** Turns SQLITE_FULL and other storage faults into StoreUnavailableError (store/errors.ts). */
  readonly #faults: <R>(fn: () => R) => R;
  readonly #checkpointer: Checkpointer | undefined;

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(path.dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    this.#db = db;
    // 4 KB pages (SQLite's default). 64 KB pages made raw-message writes 1.7x faster in isolation
    // but only ~7 % faster end to end, while every small transaction (run records, the Pending
    // Send queue's state changes) wrote whole 64 KB pages to the WAL and cost 4x as much: measured
    // in docs/performance.md. page_size only takes effect on a new, empty file; a store created
    // with 64 KB pages keeps them (VACUUM converts it).
    db.pragma('page_size = 4096');
    // WAL lets the scrape and the API read while a batch is written. synchronous=NORMAL is durable
    // across a process crash (what the exactly-once promise is about); a power cut can lose the last
    // commits, but never splits a batch from its cursor, so those UIDs are simply fetched again.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    this.#checkpointer = this.#startCheckpointer(db, options);
    const feed = new SqliteFeed(db, () => this.changes.changed());
    const parts = {
      mail: new SqliteMail(db, feed), runs: new SqliteRuns(db), lifecycle: new SqliteLifecycle(db, feed), outgoing: new SqliteOutgoing(db, feed), feed,
      pop3: new SqlitePop3(db), act: new SqliteAct(db, feed), tokens: new SqliteTokens(db), definitions: new SqliteDefinitions(db),
    };
    const faults = storageFaults(options.path);
    this.#faults = faults;
    const gated = <R>(fn: () => R) => this.#gate.run(() => faults(fn));
    const direct = <R>(fn: () => R) => Promise.resolve().then(() => faults(fn));
    this.#raw = new RawBytes(options.packDir === undefined ? defaultPackDir(options.path) : options.packDir, parts.mail, new SqlitePacks(db), gated, Date.now);
    this.mail = this.#mailStore(parts.mail, gated);
    this.runs = promised(parts.runs, gated);
    this.lifecycle = promised(parts.lifecycle, gated);
    this.outgoing = promised(parts.outgoing, gated);
    this.pop3 = promised(parts.pop3, gated);
    this.act = promised(parts.act, gated);
    this.tokens = promised(parts.tokens, gated);
    this.feed = promised(parts.feed, gated);
    this.definitions = promised(parts.definitions, gated);
    this.#tx = {
      mail: this.#mailStore(parts.mail, direct, true),
      runs: promised(parts.runs, direct),
      lifecycle: promised(parts.lifecycle, direct),
      outgoing: promised(parts.outgoing, direct),
      pop3: promised(parts.pop3, direct),
      act: promised(parts.act, direct),
      tokens: promised(parts.tokens, direct),
      feed: promised(parts.feed, direct),
      definitions: promised(parts.definitions, direct),
      changes: this.changes,
      // Nested: already atomic within the outer transaction.
      transaction: (fn) => fn(this.#tx),
      schemaVersion: () => direct(() => this.#version()),
    };
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#gate.hold(async () => {
      this.#faults(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#tx);
        this.#faults(() => this.#db.exec('COMMIT'));
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  schemaVersion(): Promise<number> {
    return this.#gate.run(() => this.#version());
  }

  compact(): Promise<CompactionReport> {
    return this.#raw.compact((fn) => this.#gate.run(() => this.#faults(fn)));
  }

  async check(progress: (done: number, total: number) => void): Promise<StoreCheckReport> {
    const integrity = (await this.integrityCheck()).filter((line) => line !== 'ok');
    const raw = await this.#raw.check((fn) => this.#gate.run(() => this.#faults(fn)), progress);
    return { integrity, ...raw };
  }

  /** SQLite's own consistency check (`PRAGMA integrity_check`): 'ok' or the problems found. */
  integrityCheck(): Promise<string[]> {
    return this.#gate.run(() => (this.#db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check));
  }

  /** C: one runner per file, and its API wakes the mailbox it queued for: no other runner to hear from. */
  onOutgoingQueued(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.#raw.close();
    // The worker's connection closes first, so that the writer's close is the last one and
    // checkpoints and removes the WAL as before.
    await this.#checkpointer?.close();
    await this.#gate.hold(async () => {
      if (this.#db.open) this.#db.close();
    });
  }

  /** The mail part as the interface has it: batches and raw reads go through the pack files. */
  #mailStore(mail: SqliteMail, call: <R>(fn: () => R) => Promise<R>, inTransaction = false): MailStore {
    const plain = promised(mail, call);
    return {
      getCursor: plain.getCursor, setCursor: plain.setCursor, countEmails: plain.countEmails, listEmails: plain.listEmails,
      emailLocations: plain.emailLocations, listItemFailures: plain.listItemFailures, itemFailureCounts: plain.itemFailureCounts,
      queryEmails: plain.queryEmails, getEmail: plain.getEmail, setHasAttachments: plain.setHasAttachments, queryItemFailures: plain.queryItemFailures,
      // Within a caller's transaction (POP3 commits its UIDLs with the emails) the bytes go inline:
      // a pack write is file I/O and takes the gate that transaction holds.
      commitBatch: (batch) => (inTransaction ? call(() => mail.commitBatch(batch)) : this.#raw.commitBatch(batch, call)),
      getRawEmail: (id) => this.#raw.read(id, call),
      openRaw: (id): Promise<Readable | undefined> => this.#raw.open(id, call),
    };
  }

  #startCheckpointer(db: Database.Database, options: SqliteOptions): Checkpointer | undefined {
    if (options.path === ':memory:' || options.checkpoints !== 'background') return undefined;
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    let warned = false;
    return new Checkpointer(options.path, (message) => {
      if (warned) return;
      warned = true;
      process.emitWarning(`store ${options.path}: background WAL checkpoint failed (${message}); the writer's own checkpoints take over`);
    });
  }

  #version(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }
}

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
