import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgLeaseStore } from '../../exporter/src/store/postgres/leases.js';
import { migrate } from '../../exporter/src/store/postgres/migrations.js';
import { PostgresStore } from '../../exporter/src/store/postgres/store.js';
import type { Lease, LeaseKey } from '../../exporter/src/store/index.js';
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';


/** The store's own schema (leases, runners, sync_run...), as a runner's start leaves it. */
async function migrateDatabase(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}

const TTL = 30_000;
const keys = (n: number, prefix = 'm'): LeaseKey[] =>
  Array.from({ length: n }, (_, i) => ({ mailboxId: `${prefix}${String(i).padStart(3, '0')}`, direction: 'incoming' as const }));
const ids = (leases: readonly LeaseKey[]) => leases.map((l) => l.mailboxId).sort();

describe('PostgreSQL leases (several pools acting as runners)', () => {
  let server: Postgres;
  const pools: pg.Pool[] = [];
  let n = 0;

  /** A fresh database per test and one pool per runner, as separate runner processes would have. */
  async function runners(count: number): Promise<{ db: string; stores: PgLeaseStore[]; url: string }> {
    const db = `leases${++n}`;
    const url = await server.createDatabase(db);
    await migrateDatabase(url);
    const stores = Array.from({ length: count }, () => {
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      // An idle client's error (the cluster stopping at the end) is emitted on the pool: not a test failure.
      pool.on('error', () => undefined);
      pools.push(pool);
      return new PgLeaseStore(pool);
    });
    return { db, stores, url };
  }

  beforeAll(async () => {
    server = await Postgres.start();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await server?.destroy();
  });

  it('claims are exclusive when five runners claim the same 200 directions at once', async () => {
    const { db, stores } = await runners(5);
    const wanted = keys(200);
    const rounds = await Promise.all(stores.flatMap((s, i) => [s.claim(`r${i}`, wanted, 200, TTL), s.claim(`r${i}`, wanted, 200, TTL)]));
    const won = rounds.flat();
    expect(won).toHaveLength(200);
    expect(new Set(won.map((l) => l.mailboxId)).size).toBe(200);
    expect(won.every((l) => l.token === 1 && l.previousRunner === null)).toBe(true);
    const rows = await server.sql<{ runner: string; n: number }>('SELECT runner, count(*)::int AS n FROM leases GROUP BY runner', [], db);
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(200);
    expect(rows.every((r) => r.runner !== null)).toBe(true);
  });

  it('takes an expired lease over with the next token; the old holder can no longer renew it', async () => {
    const { db, stores: [a, b] } = await runners(2);
    const [mine] = await a!.claim('a', keys(1), 10, TTL);
    expect(await b!.claim('b', keys(1), 10, TTL)).toEqual([]);
    // The database's clock passes the lease (as if runner a stopped for longer than the TTL).
    await server.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second'", [], db);
    const [taken] = await b!.claim('b', keys(1), 10, TTL);
    expect(taken).toMatchObject({ mailboxId: 'm000', token: 2, previousRunner: 'a' });
    expect(await a!.renew('a', [mine as Lease], TTL)).toEqual([]);
    expect(ids(await b!.renew('b', [taken as Lease], TTL))).toEqual(['m000']);
  });

  it('renews only while held and unexpired, even with the right token', async () => {
    const { db, stores: [a] } = await runners(1);
    const held = await a!.claim('a', keys(3), 10, TTL);
    const before = held.map((l) => l.expiresAt);
    const renewed = await a!.renew('a', held, TTL * 2);
    expect(renewed.map((l) => l.expiresAt).every((at, i) => at > (before[i] as number))).toBe(true);
    await server.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second' WHERE mailbox_id = 'm001'", [], db);
    expect(ids(await a!.renew('a', held, TTL))).toEqual(['m000', 'm002']);
    expect(await a!.renew('someone-else', held, TTL)).toEqual([]);
  });

  it('a released lease is free at once for another runner, with a new token', async () => {
    const { stores: [a, b] } = await runners(2);
    const held = await a!.claim('a', keys(4), 10, TTL);
    await a!.release('a', held.slice(0, 2));
    // Another runner's release of a lease it does not hold changes nothing.
    await b!.release('b', held.slice(2));
    const taken = await b!.claim('b', keys(4), 10, TTL);
    expect(ids(taken)).toEqual(['m000', 'm001']);
    expect(taken.every((l) => l.token === 2 && l.previousRunner === null)).toBe(true);
    const rows = await a!.list();
    expect(rows.map((r) => [r.mailboxId, r.runner, r.live])).toEqual([['m000', 'b', true], ['m001', 'b', true], ['m002', 'a', true], ['m003', 'a', true]]);
  });

  it('claims at most the limit, free directions first, then those expired longest ago', async () => {
    const { db, stores: [a, b] } = await runners(2);
    await a!.claim('a', keys(4), 10, TTL);
    await server.sql(`UPDATE leases SET expires_at = clock_timestamp() - CASE mailbox_id WHEN 'm001' THEN interval '1 minute'
      ELSE interval '1 second' END WHERE mailbox_id IN ('m001', 'm002')`, [], db);
    const wanted = keys(6);
    expect(ids(await b!.claim('b', wanted, 2, TTL))).toEqual(['m004', 'm005']);
    expect(ids(await b!.claim('b', wanted, 1, TTL))).toEqual(['m001']);
    expect(ids(await b!.claim('b', wanted, 5, TTL))).toEqual(['m002']);
  });

  it('counts the runners whose heartbeat is within the TTL', async () => {
    const { db, stores: [a, b] } = await runners(2);
    expect(await a!.heartbeat('a', TTL)).toBe(1);
    expect(await b!.heartbeat('b', TTL)).toBe(2);
    // Runner a went quiet for longer than the TTL: it no longer counts towards the fair share.
    await server.sql("UPDATE runners SET seen_at = clock_timestamp() - interval '1 minute' WHERE id = 'a'", [], db);
    expect(await b!.heartbeat('b', TTL)).toBe(1);
    expect(await a!.heartbeat('a', TTL)).toBe(2);
  });

  it('skips a lease row a commit holds FOR KEY SHARE instead of waiting, and takes it once the commit ends', async () => {
    const { db, stores: [a, b] } = await runners(2);
    await a!.claim('a', keys(1), 10, TTL);
    await server.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second'", [], db);
    // A writer's transaction holding the row as the fence check of design-16 does (FOR KEY SHARE).
    const writer = new pg.Client({ connectionString: server.url(db) });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query("SELECT 1 FROM leases WHERE mailbox_id = 'm000' FOR KEY SHARE");
      expect(await b!.claim('b', keys(1), 10, TTL)).toEqual([]);
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    const [taken] = await b!.claim('b', keys(1), 10, TTL);
    expect(taken).toMatchObject({ token: 2, previousRunner: 'a' });
  });

  it('the new holder closes the previous holder\'s open run of that direction only', async () => {
    const { db, url } = await runners(1);
    await server.sql(`INSERT INTO sync_run (mailbox_id, direction, runner, started_at, finished_at, result) VALUES
      ('m1', 'incoming', 'a', 1, NULL, NULL), ('m1', 'outgoing', 'a', 1, NULL, NULL), ('m1', 'incoming', 'a', 1, 2, 'success')`, [], db);
    const store = await PostgresStore.open({ url, runner: 'b' });
    try {
      expect(await store.runs.abortOpenRunsOf('m1', 'incoming', 5)).toBe(1);
    } finally {
      await store.close();
    }
    const rows = await server.sql<{ direction: string; result: string | null; finished_at: string | null }>(
      'SELECT direction, result, finished_at FROM sync_run ORDER BY id', [], db);
    expect(rows.map((r) => [r.direction, r.result, r.finished_at])).toEqual([['incoming', 'aborted', '5'], ['outgoing', null, null], ['incoming', 'success', '2']]);
  });

  it('F: tells the other runners when one joins, releases leases or leaves, on their listening connection', async () => {
    const { url } = await runners(0);
    const [a, b] = await Promise.all([PostgresStore.open({ url, runner: 'a' }), PostgresStore.open({ url, runner: 'b' })]);
    try {
      const heard: string[] = [];
      b.leases.onRebalance((from) => heard.push(from));
      await a.leases.heartbeat('a', TTL);
      // A heartbeat within the TTL of the last is no news; a release that frees nothing neither.
      await a.leases.heartbeat('a', TTL);
      await a.leases.release('a', keys(1));
      const won = await a.leases.claim('a', keys(2), 2, TTL);
      await a.leases.release('a', won);
      await a.leases.leave('a');
      expect(await b.leases.heartbeat('b', TTL)).toBe(1);
      // Notifications arrive in commit order: once b's own join is heard, everything before it was.
      await waitFor(() => heard.includes('b'), { what: 'b to hear its own join' });
      expect(heard).toEqual(['a', 'a', 'a', 'b']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
