import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { FencedError, SqliteStore, StoreUnavailableError } from '../store/index.js';
import { OutgoingClaimError } from '../store/postgres/outgoing.js';
import { storageFaults } from '../store/sqlite/faults.js';
import type { DirectionRunner } from './contract.js';
import { runCycle } from './run.js';

const config = parseConfig(JSON.stringify({
  organization: { id: 'o' },
  profiles: [{ id: 'p', incoming: { host: 'imap.example' }, auth: { mode: 'mailbox' } }],
  mailboxes: [{ id: 'm', address: 'm@example.com', profile: 'p', credentials: { username: 'm', password: '${PW}' } }],
}), 'inline.yaml', { env: { PW: 'secret' } });
const mailbox = config.mailboxes[0]!;
const profile = config.profiles[0]!;

/** A direction whose cycle meets the error given (as a commit on a full disk would). */
function failingWith(error: Error): DirectionRunner {
  return {
    name: 'incoming', intervalMs: () => 60_000, groupLimit: () => 1, release: () => undefined,
    closeIdle: async () => undefined, close: async () => undefined,
    check: () => Promise.reject(new Error('not used')),
    cycle: () => Promise.reject(error),
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a cycle cut short by the store', () => {
  it('ends aborted with the fault, and holds nothing against the mailbox', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const deps = { store, clock: { now: () => 1_000 }, logger: createLogger('silent'), autodiscover: () => undefined };
    const fault = new StoreUnavailableError('disk_full', 'SQLITE_FULL', '/var/lib/mailsync/mailsync.db');
    for (let i = 0; i < 15; i++) {
      const outcome = await runCycle(failingWith(fault), mailbox, profile, config, deps, { retry: false });
      expect(outcome).toMatchObject({ result: 'aborted', storeFault: fault, itemsProcessed: 0 });
    }
    const state = await store.runs.getDirectionState('m', 'incoming');
    // More cycles than the retry budget: still not failing, not disabled, no retry counted.
    expect(state).toMatchObject({ disabled: false, consecutiveFailures: 0, runsFailureTotal: 0, runsAbortedTotal: 15, retriesTotal: 0, lastErrorCode: null });
    await store.close();
  });

  it("a mailbox's own failure is still classified and counted", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const deps = { store, clock: { now: () => 1_000 }, logger: createLogger('silent'), autodiscover: () => undefined };
    const outcome = await runCycle(failingWith(new Error('something else')), mailbox, profile, config, deps, { retry: false });
    expect(outcome.result).toBe('failure');
    await store.close();
  });
});

describe('an outgoing claim lost to another runner', () => {
  it('stops the cycle as a lost lease does: thrown to the scheduler, nothing held against the mailbox', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const deps = { store, clock: { now: () => 1_000 }, logger: createLogger('silent'), autodiscover: () => undefined };
    const fence = { mailboxId: 'm', direction: 'outgoing' as const, runner: 'r1', token: 3 };
    const lost = new OutgoingClaimError(7, fence);
    const outgoing = { ...failingWith(lost), name: 'outgoing' as const };
    await expect(runCycle(outgoing, mailbox, profile, config, deps, { retry: false })).rejects.toSatisfy((e) => e instanceof FencedError && e.fence === fence);
    // No failure recorded: the run is left for the new holder to close, the retry budget untouched.
    expect(await store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ consecutiveFailures: 0, runsFailureTotal: 0, lastErrorCode: null });
    expect(lost.message).toMatch(/outgoing email 7 .*another runner.*runner r1 \(token 3\)/);
    await store.close();
  });
});

describe('storage faults of the SQLite driver', () => {
  it('turns SQLITE_FULL and SQLITE_IOERR_* into StoreUnavailableError naming the file, and passes other errors through', () => {
    const guard = storageFaults('/data/mailsync.db');
    const full = () => guard(() => { throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL'); });
    expect(full).toThrow(StoreUnavailableError);
    expect(full).toThrow("the store's disk is full (SQLITE_FULL, /data/mailsync.db)");
    expect(() => guard(() => { throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'); }))
      .toThrow("the store's disk failed to read or write (SQLITE_IOERR_WRITE, /data/mailsync.db)");
    const constraint = new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE');
    expect(() => guard(() => { throw constraint; })).toThrow(constraint);
  });

  it('a real store on a file it can no longer write says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-faults-'));
    dirs.push(dir);
    const file = path.join(dir, 'ro.db');
    await new SqliteStore({ path: file }).close();
    const readOnly = new Database(file, { readonly: true });
    const guard = storageFaults(file);
    expect(() => guard(() => readOnly.exec("INSERT INTO mailbox_lifecycle (mailbox_id) VALUES ('x')"))).toThrow(/the store is read-only \(SQLITE_READONLY/);
    readOnly.close();
  });
});
