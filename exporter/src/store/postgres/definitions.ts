import type pg from 'pg';
import type {
  Definition, DefinitionInput, DefinitionKind, DefinitionStore, DefinitionWrite, FileImport,
} from '../definition-types.js';
import { importMoved, planFileImport } from '../definition-import.js';

interface Row { kind: DefinitionKind; id: string; source: 'file' | 'api'; body: Record<string, unknown>; changed_by: string; changed_at: string }

const COLUMNS = 'kind, id, source, body, changed_by, changed_at';
const toDefinition = (r: Row): Definition => ({
  kind: r.kind, id: r.id, source: r.source, body: r.body, changedBy: r.changed_by, changedAt: Number(r.changed_at),
});

type Query = Pick<pg.PoolClient, 'query'>;

/**
 * C: DefinitionStore on a pg.Pool (the PostgreSQL driver constructs it with its own pool), or on
 * the client of a transaction already open (the store's `transaction(fn)` view: an API change
 * commits with its audit entry), where each method runs inside that transaction.
 */
export class PgDefinitionStore implements DefinitionStore {
  constructor(readonly pool: pg.Pool | pg.PoolClient) {}

  async revision(): Promise<number> {
    const { rows } = await this.pool.query<{ revision: string }>('SELECT revision FROM definition_revision WHERE id = 1');
    return Number(rows[0]?.revision ?? 0);
  }

  async list(): Promise<Definition[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM definition ORDER BY kind, id`);
    return rows.map(toDefinition);
  }

  async get(kind: DefinitionKind, id: string): Promise<Definition | undefined> {
    return get(this.pool, kind, id);
  }

  create(def: DefinitionInput, expected?: number): Promise<DefinitionWrite> {
    return this.#tx(async (c) => {
      if (await stale(c, expected)) return { ok: false, refusal: 'stale' };
      const done = await c.query(`INSERT INTO definition (${COLUMNS}) VALUES ($1, $2, 'api', $3, $4, $5) ON CONFLICT DO NOTHING`,
        [def.kind, def.id, def.body, def.changedBy, def.changedAt]);
      return done.rowCount === 1 ? bump(c) : refused(c, def.kind, def.id, 'exists');
    });
  }

  update(def: DefinitionInput, expected?: number): Promise<DefinitionWrite> {
    return this.#tx(async (c) => {
      if (await stale(c, expected)) return { ok: false, refusal: 'stale' };
      const done = await c.query("UPDATE definition SET body = $1, changed_by = $2, changed_at = $3 WHERE kind = $4 AND id = $5 AND source = 'api'",
        [def.body, def.changedBy, def.changedAt, def.kind, def.id]);
      return done.rowCount === 1 ? bump(c) : refused(c, def.kind, def.id, 'missing');
    });
  }

  remove(kind: DefinitionKind, id: string, expected?: number): Promise<DefinitionWrite> {
    return this.#tx(async (c) => {
      // The revision row first (locked): it serialises definition writers, so a mailbox naming
      // this profile cannot be created between the check below and the delete.
      if (await stale(c, expected)) return { ok: false, refusal: 'stale' };
      if (kind === 'profile' && (await get(c, kind, id))?.source === 'api') {
        const used = await c.query("SELECT 1 FROM definition WHERE kind = 'mailbox' AND body->>'profile' = $1 LIMIT 1", [id]);
        if ((used.rowCount ?? 0) > 0) return { ok: false, refusal: 'in_use' };
      }
      const done = await c.query("DELETE FROM definition WHERE kind = $1 AND id = $2 AND source = 'api'", [kind, id]);
      return done.rowCount === 1 ? bump(c) : refused(c, kind, id, 'missing');
    });
  }

  importFile(defs: DefinitionInput[]): Promise<FileImport> {
    return this.#tx(async (c) => {
      await c.query('SELECT revision FROM definition_revision WHERE id = 1 FOR UPDATE');
      const { rows } = await c.query<Row>(`SELECT ${COLUMNS} FROM definition`);
      const { upserts, removals, result } = planFileImport(rows.map(toDefinition), defs);
      // F: one statement each, whatever the number of definitions: a first import of 3,000
      // mailboxes was 3,000 round trips, with the revision row locked for every other runner.
      if (upserts.length > 0) {
        await c.query(`INSERT INTO definition (${COLUMNS})
          SELECT d.kind, d.id, 'file', d.body, d.changed_by, d.changed_at
          FROM jsonb_to_recordset($1::jsonb) AS d(kind text, id text, body jsonb, changed_by text, changed_at bigint)
          ON CONFLICT (kind, id) DO UPDATE SET source = 'file', body = excluded.body, changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
        [JSON.stringify(upserts.map((d) => ({ kind: d.kind, id: d.id, body: d.body, changed_by: d.changedBy, changed_at: d.changedAt })))]);
      }
      if (removals.length > 0) {
        await c.query(`DELETE FROM definition d USING unnest($1::text[], $2::text[]) AS r(kind, id)
          WHERE d.kind = r.kind AND d.id = r.id AND d.source = 'file'`, [removals.map((r) => r.kind), removals.map((r) => r.id)]);
      }
      const write = importMoved(result) ? await bump(c) : undefined;
      result.revision = write?.ok ? write.revision : Number((await c.query<{ revision: string }>('SELECT revision FROM definition_revision WHERE id = 1')).rows[0]?.revision ?? 0);
      return result;
    });
  }

  async #tx<T>(fn: (c: Query) => Promise<T>): Promise<T> {
    if (!isPool(this.pool)) return fn(this.pool);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

const isPool = (p: pg.Pool | pg.PoolClient): p is pg.Pool => !('release' in p);

async function get(c: Query, kind: DefinitionKind, id: string): Promise<Definition | undefined> {
  const { rows } = await c.query<Row>(`SELECT ${COLUMNS} FROM definition WHERE kind = $1 AND id = $2`, [kind, id]);
  return rows[0] && toDefinition(rows[0]);
}

/**
 * Locks the revision row for the rest of the transaction (writers on every runner queue here) and
 * says whether it moved past `expected`; without `expected` it only locks.
 */
async function stale(c: Query, expected: number | undefined): Promise<boolean> {
  const { rows } = await c.query<{ revision: string }>('SELECT revision FROM definition_revision WHERE id = 1 FOR UPDATE');
  return expected !== undefined && Number(rows[0]?.revision ?? 0) !== expected;
}

async function bump(c: Query): Promise<DefinitionWrite> {
  const { rows } = await c.query<{ revision: string }>('UPDATE definition_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision');
  return { ok: true, revision: Number(rows[0]?.revision ?? 0) };
}

async function refused(c: Query, kind: DefinitionKind, id: string, otherwise: 'exists' | 'missing'): Promise<DefinitionWrite> {
  const row = await get(c, kind, id);
  if (row?.source === 'file') return { ok: false, refusal: 'file', source: 'file' };
  return row ? { ok: false, refusal: otherwise, source: row.source } : { ok: false, refusal: 'missing' };
}
