import pgClient from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fenceContext, FencedError, openStore, PostgresStore, StoreUnavailableError, type Fence, type Store,
} from '../../exporter/src/store/index.js';
import { Connection } from '../../exporter/src/store/postgres/connection.js';
import { PG_MIGRATIONS } from '../../exporter/src/store/postgres/migrations.js';
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';
import { email, storeSuite } from '../support/store-suite.js';

let pg: Postgres;
let databases = 0;
beforeAll(async () => {
  pg = await Postgres.start();
}, 60_000);
afterAll(async () => {
  await pg.destroy();
});

/** A new database per store: the suite's cases each start empty. */
async function freshUrl(): Promise<{ url: string; name: string }> {
  const name = `s${++databases}`;
  return { url: await pg.createDatabase(name), name };
}

const opened: Store[] = [];
async function open(url: string, runner = 'r1'): Promise<Store> {
  const s = await openStore({ driver: 'postgresql', path: 'unused', postgresql: { url }, runner });
  opened.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

storeSuite('postgresql', async () => openStore({ driver: 'postgresql', path: 'unused', postgresql: { url: (await freshUrl()).url }, runner: 'r1' }));

const batch = (uid: number, body: string) => ({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: uid, emails: [email(uid, body)], failures: [], at: 1 });

describe('PostgreSQL store: schema', () => {
  it('migrates once when several runners start together, and refuses a newer schema', async () => {
    const { url, name } = await freshUrl();
    const stores = await Promise.all([open(url, 'a'), open(url, 'b'), open(url, 'c')]);
    expect(await Promise.all(stores.map((s) => s.schemaVersion()))).toEqual([PG_MIGRATIONS.length, PG_MIGRATIONS.length, PG_MIGRATIONS.length]);
    expect(await pg.sql('SELECT version FROM mailsync_schema', [], name)).toEqual([{ version: PG_MIGRATIONS.length }]);
    await pg.sql('UPDATE mailsync_schema SET version = version + 1', [], name);
    await expect(open(url)).rejects.toThrow(/is newer than this mailsync/);
  });

  it('creates the leases and runners tables the lease store works on', async () => {
    const { url, name } = await freshUrl();
    await open(url);
    const tables = await pg.sql<{ table_name: string }>(`SELECT table_name FROM information_schema.tables
      WHERE table_name IN ('leases', 'runners') ORDER BY table_name`, [], name);
    expect(tables.map((t) => t.table_name)).toEqual(['leases', 'runners']);
  });
});

describe('PostgreSQL store: fencing', () => {
  const fence: Fence = { mailboxId: 'm', direction: 'incoming', runner: 'r1', token: 7 };
  const lease = (name: string, runner: string, token: number, expires: string) => pg.sql(
    `INSERT INTO leases (mailbox_id, direction, runner, token, expires_at) VALUES ('m', 'incoming', $1, $2, now() + $3::interval)
     ON CONFLICT (mailbox_id, direction) DO UPDATE SET runner = excluded.runner, token = excluded.token, expires_at = excluded.expires_at`,
    [runner, token, expires], name);

  it('writes under a fence whose lease is held, and refuses (keeping nothing) when it is missing, expired or another token', async () => {
    const { url, name } = await freshUrl();
    const s = await open(url);
    const write = (uid: number) => fenceContext.run(fence, () => s.mail.commitBatch(batch(uid, `u${uid}`)));
    await expect(write(1)).rejects.toBeInstanceOf(FencedError); // no lease row at all
    await lease(name, 'r1', 7, '1 minute');
    await expect(write(2)).resolves.toMatchObject({ inserted: 1 });
    await lease(name, 'r1', 7, '-1 second');
    await expect(write(3)).rejects.toThrow(/no longer held by runner r1 \(token 7\)/);
    await lease(name, 'r2', 8, '1 minute');
    await expect(write(4)).rejects.toBeInstanceOf(FencedError);
    await expect(fenceContext.run(fence, () => s.transaction(async (tx) => {
      await tx.lifecycle.setApproval('m', 'approved', 'a', 'admin', 1);
    }))).rejects.toBeInstanceOf(FencedError);
    expect((await s.mail.listEmails('m')).map((e) => e.subject)).toEqual(['u2']);
    expect(await s.mail.getCursor('m', 'INBOX')).toEqual({ uidvalidity: 1, lastUid: 2 });
    expect((await s.lifecycle.get('m')).approval).toBe('empty');
    // Reads are never fenced; writes outside a lease (the API, the scheduler's own bookkeeping) are not either.
    expect(await fenceContext.run(fence, () => s.mail.countEmails('m'))).toBe(1);
    await expect(s.mail.commitBatch(batch(5, 'u5'))).resolves.toMatchObject({ inserted: 1 });
  });

  it("checks the fence inside a run's start and end (one statement each), and writes nothing of either when the lease is lost", async () => {
    const { url, name } = await freshUrl();
    const s = await open(url);
    const underFence = <T>(fn: () => Promise<T>) => fenceContext.run(fence, fn);
    const end = { result: 'success', at: 3, itemsProcessed: 1, itemsFailed: 0 } as const;
    await expect(underFence(() => s.runs.startRun('m', 'incoming', 1, false))).rejects.toBeInstanceOf(FencedError); // no lease row
    await lease(name, 'r1', 7, '1 minute');
    const run = await underFence(() => s.runs.startRun('m', 'incoming', 2, true));
    await lease(name, 'r2', 8, '1 minute'); // taken over while the run was going
    await expect(underFence(() => s.runs.finishRun(run, end))).rejects.toThrow(/no longer held by runner r1 \(token 7\)/);
    await expect(underFence(() => s.runs.startRun('m', 'incoming', 4, false))).rejects.toBeInstanceOf(FencedError);
    expect((await s.runs.listRuns('m')).map((r) => ({ id: r.id, result: r.result, startedAt: r.startedAt }))).toEqual([{ id: run, result: null, startedAt: 2 }]);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ lastRunStartedAt: 2, retriesTotal: 1, runsSuccessTotal: 0, itemsProcessedTotal: 0 });
    // Held again (a new token): the end goes through; a missing run is an error of its own, not a lost lease.
    await pg.sql(`UPDATE leases SET runner = 'r1', token = 7 WHERE mailbox_id = 'm'`, [], name);
    await underFence(() => s.runs.finishRun(run, end));
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ status: 'success', runsSuccessTotal: 1, itemsProcessedTotal: 1 });
    await expect(underFence(() => s.runs.finishRun(run + 100, end))).rejects.toThrow(`no sync run ${run + 100}`);
  });

  it('makes a takeover wait for a fenced commit in progress', async () => {
    const { url, name } = await freshUrl();
    const s = await open(url);
    await lease(name, 'r1', 7, '1 minute');
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let wrote!: () => void;
    const written = new Promise<void>((r) => { wrote = r; });
    const commit = fenceContext.run(fence, () => s.transaction(async (tx) => {
      await tx.lifecycle.setApproval('m', 'approved', 'a', 'admin', 1);
      wrote();
      await held;
    }));
    await written;
    // The holder's own renewal (expires_at only) does not wait for its commit in progress...
    expect(await pg.sql(`UPDATE leases SET expires_at = clock_timestamp() + interval '2 minutes' WHERE mailbox_id = 'm' AND runner = 'r1' RETURNING token`, [], name))
      .toEqual([{ token: '7' }]);
    // ...a takeover, which locks the row FOR UPDATE as the claim does, waits on the fence's FOR KEY SHARE.
    const takeover = pg.sql(`WITH locked AS (SELECT mailbox_id FROM leases WHERE mailbox_id = 'm' FOR UPDATE)
      UPDATE leases l SET runner = 'r2', token = l.token + 1 FROM locked WHERE l.mailbox_id = locked.mailbox_id RETURNING l.token`, [], name);
    await waitFor(() => pg.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [name], 'postgres'),
      { what: 'the takeover waiting on the lease row', until: (rows) => rows[0]?.n === 1 });
    release();
    await commit;
    expect(await takeover).toEqual([{ token: '8' }]);
    expect((await s.lifecycle.get('m')).approval).toBe('approved');
    await expect(fenceContext.run(fence, () => s.lifecycle.setApproval('m', 'rejected', 'a', 'admin', 2))).rejects.toBeInstanceOf(FencedError);
  });
});

describe('PostgreSQL store: several runners', () => {
  it('lets exactly one runner claim an outgoing email for sending', async () => {
    const { url } = await freshUrl();
    const [a, b] = await Promise.all([open(url, 'a'), open(url, 'b')]);
    const id = await a.outgoing.queue({ mailboxId: 'm', messageId: '<x@y>', envelopeFrom: 'm@y', recipients: ['r@y'], subject: null, raw: Buffer.from('x'), at: 1, by: 'op' });
    const claims = await Promise.allSettled([a.outgoing.markSending(id, 2), b.outgoing.markSending(id, 2)]);
    expect(claims.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
    // Outside a lease: refused as a lost claim (under one it is a FencedError: outgoing-postgres.test.ts).
    expect(claims.find((c) => c.status === 'rejected')).toMatchObject({ reason: { message: `outgoing email ${id} is no longer waiting to be sent: another writer claimed it` } });
    expect(await a.outgoing.get(id)).toMatchObject({ state: 'sending', attempts: 1 });
    expect((await a.outgoing.history(id)).map((h) => h.state)).toEqual(['pending_send', 'sending']);
  });

  it('closes only its own runner\'s open runs when it starts', async () => {
    const { url } = await freshUrl();
    const [a, b] = await Promise.all([open(url, 'a'), open(url, 'b')]);
    await a.runs.startRun('m', 'incoming', 1, false);
    await b.runs.startRun('n', 'incoming', 1, false);
    expect(await a.runs.abortUnfinishedRuns(5)).toBe(1);
    expect((await a.runs.listRuns('m'))[0]).toMatchObject({ result: 'aborted' });
    expect((await a.runs.listRuns('n'))[0]).toMatchObject({ result: null });
  });

  it('numbers changes in commit order across runners, and wakes the other runner\'s long-polls', async () => {
    const { url } = await freshUrl();
    const [a, b] = await Promise.all([open(url, 'a'), open(url, 'b')]);
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let wrote!: () => void;
    const written = new Promise<void>((r) => { wrote = r; });
    // a's change is written first but commits last: it must get the later number.
    const slow = a.transaction(async (tx) => {
      await tx.lifecycle.disable('slow', 'incoming', { code: null, reason: 'r', by: 'op', at: 1 });
      wrote();
      await held;
    });
    await written;
    const woken = a.changes.next(60_000);
    await b.lifecycle.disable('fast', 'incoming', { code: null, reason: 'r', by: 'op', at: 2 });
    await woken; // runner a heard runner b's commit through LISTEN/NOTIFY
    expect((await a.feed.changesAfter(0, 10)).map((c) => c.mailboxId)).toEqual(['fast']);
    release();
    await slow;
    expect((await b.feed.changesAfter(0, 10)).map((c) => [c.seq, c.mailboxId])).toEqual([[1, 'fast'], [2, 'slow']]);
  });

  it('stores a message once when two runners commit the same batch at once', async () => {
    const { url } = await freshUrl();
    const [a, b] = await Promise.all([open(url, 'a'), open(url, 'b')]);
    const outcomes = await Promise.all([a.mail.commitBatch(batch(1, 'same')), b.mail.commitBatch(batch(1, 'same'))]);
    expect(outcomes.map((o) => o.inserted).sort()).toEqual([0, 1]);
    expect(await a.mail.countEmails('m')).toBe(1);
    expect(await a.feed.changesAfter(0, 10)).toHaveLength(1);
  });
});

describe('PostgreSQL store: lost races', () => {
  /** PostgreSQL's own error for a deadlock victim, raised by the server (40P01), on the first attempt only. */
  const LOSE = "DO $$ BEGIN RAISE EXCEPTION 'chosen as the deadlock victim' USING ERRCODE = '40P01'; END $$";

  it('runs the driver\'s own write again after a deadlock, and a caller\'s transaction not', async () => {
    const { url } = await freshUrl();
    await open(url); // migrated
    const pool = new pgClient.Pool({ connectionString: url });
    try {
      const connection = new Connection(pool, 'test', () => ({ sql: 'SELECT 1', values: [] }), () => undefined);
      let attempts = 0;
      const written = await connection.root().write(async (tx) => {
        attempts += 1;
        await tx.query('INSERT INTO mailbox_lifecycle (mailbox_id) VALUES ($1)', [`m${attempts}`]);
        if (attempts === 1) await tx.query(LOSE);
        return attempts;
      });
      expect(written).toBe(2);
      expect((await pool.query('SELECT mailbox_id FROM mailbox_lifecycle')).rows).toEqual([{ mailbox_id: 'm2' }]);
      let bodies = 0;
      await expect(connection.transaction(async (tx) => {
        bodies += 1;
        await tx.query(LOSE);
      })).rejects.toMatchObject({ code: '40P01' });
      expect(bodies).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('PostgreSQL store: faults', () => {
  it('survives its connections being terminated, and says the database is unreachable while it is down', async () => {
    const { url, name } = await freshUrl();
    const s = await open(url);
    await s.mail.commitBatch(batch(1, 'before'));
    expect(await pg.terminateConnections(name)).toBeGreaterThan(0);
    // The pool dropped the terminated clients (an idle client's error did not end the process).
    await waitFor(() => s.mail.countEmails('m').catch(() => -1), { what: 'a read after pg_terminate_backend', until: (n) => n === 1 });
    await pg.stop();
    try {
      const error = await s.mail.commitBatch(batch(2, 'down')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ fault: 'unreachable' });
      expect((error as Error).message).toMatch(/the store database cannot be reached \(\w+, postgresql:\/\/127\.0\.0\.1:\d+\/s\d+\)/);
    } finally {
      await pg.start();
    }
    await waitFor(() => s.mail.commitBatch(batch(3, 'after')).then(() => true, () => false), { what: 'a write after the restart' });
    expect((await s.mail.listEmails('m')).map((e) => e.subject)).toEqual(['before', 'after']);
    // The feed listener listens again: a change from another runner wakes this one.
    const other = await open(url, 'other');
    await waitFor(async () => {
      const woken = s.changes.next(500).then(() => 'woken');
      await other.lifecycle.disable('x', 'incoming', { code: null, reason: 'r', by: 'op', at: Date.now() });
      await other.lifecycle.enable('x', 'incoming');
      return woken;
    }, { what: 'the feed listener to listen again after the restart' });
  }, 60_000);

  it('refuses to open with an unreachable database, naming where without the password', async () => {
    const url = `postgresql://mailsync:hunter2@127.0.0.1:${pg.port + 1}/nowhere`;
    const error = await PostgresStore.open({ url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('streams raw bytes in slices and the check finds a row whose bytes changed', async () => {
    const { url, name } = await freshUrl();
    const s = await open(url);
    await s.mail.commitBatch(batch(1, 'ok'));
    await s.mail.commitBatch({ ...batch(2, 'tampered'), lastUid: 2 });
    await pg.sql(`UPDATE email SET raw = 'changed'::bytea WHERE subject = 'tampered'`, [], name);
    const report = await s.check(() => undefined);
    expect(report.problems).toEqual([expect.stringMatching(/^email \d+ \(mailbox m\): SHA-256 of the bytes is [0-9a-f]{64}, the row says/)]);
  });
});
