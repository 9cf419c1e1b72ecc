import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDefinitionStore } from '../../exporter/src/store/postgres/definitions.js';
import { migrate } from '../../exporter/src/store/postgres/migrations.js';
import { Postgres } from '../harness/postgres.js';
import { definitionStoreSuite } from '../support/definition-store-suite.js';

// C: the definitions sub-store on a real PostgreSQL 15; each test gets its own database with the DDL applied.
let server: Postgres;
let n = 0;

beforeAll(async () => {
  server = await Postgres.start();
});
afterAll(async () => {
  await server?.destroy();
});

definitionStoreSuite(async () => {
  const url = await server.createDatabase(`defs_${++n}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await migrate(pool);
  return { definitions: new PgDefinitionStore(pool), close: () => pool.end() };
});

describe('definitions on a transaction\'s client', () => {
  it('write inside the caller\'s transaction: a rollback takes the definition and its revision back', async () => {
    const url = await server.createDatabase('defs_tx');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migrate(pool);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inTx = new PgDefinitionStore(client);
        expect(await inTx.create({ kind: 'profile', id: 'p', body: { id: 'p' }, changedBy: 'root', changedAt: 1 })).toEqual({ ok: true, revision: 1 });
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      const outside = new PgDefinitionStore(pool);
      expect(await outside.list()).toEqual([]);
      expect(await outside.revision()).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('F: imports a file of any size in a fixed number of statements, and removes as many in one', async () => {
    const url = await server.createDatabase('defs_batch');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migrate(pool);
      const client = await pool.connect();
      let statements = 0;
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: typeof query }).query = (...args) => { statements += 1; return query(...args); };
      const mailbox = (i: number, address = `m${i}@example.com`) => ({ kind: 'mailbox' as const, id: `m${i}`, body: { id: `m${i}`, address, profile: 'p' }, changedBy: 'file', changedAt: 1 });
      const defs = Array.from({ length: 500 }, (_, i) => mailbox(i));
      try {
        const store = new PgDefinitionStore(client);
        expect(await store.importFile(defs)).toMatchObject({ added: 500, changed: 0, removed: 0, revision: 1 });
        expect(statements).toBeLessThanOrEqual(4);
        statements = 0;
        // One changed, 250 gone: still a handful of statements.
        const next = [mailbox(0, 'new@example.com'), ...defs.slice(1, 250)];
        expect(await store.importFile(next)).toMatchObject({ added: 0, changed: 1, removed: 250, revision: 2 });
        expect(statements).toBeLessThanOrEqual(5);
        const stored = await store.list();
        expect(stored).toHaveLength(250);
        expect(stored.find((d) => d.id === 'm0')?.body).toEqual({ id: 'm0', address: 'new@example.com', profile: 'p' });
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});
