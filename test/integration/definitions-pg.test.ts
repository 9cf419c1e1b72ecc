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
});
