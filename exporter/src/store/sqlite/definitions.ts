import type Database from 'better-sqlite3';
import type {
  Definition, DefinitionInput, DefinitionKind, DefinitionSource, DefinitionWrite, FileImport,
} from '../definition-types.js';
import { importMoved, planFileImport } from '../definition-import.js';

interface Row { kind: DefinitionKind; id: string; source: DefinitionSource; body: string; changed_by: string; changed_at: number }

const toDefinition = (r: Row): Definition => ({
  kind: r.kind, id: r.id, source: r.source, body: JSON.parse(r.body) as Record<string, unknown>, changedBy: r.changed_by, changedAt: r.changed_at,
});

/** C: profiles and mailboxes defined in the store, and the revision counter runners poll. */
export class SqliteDefinitions {
  readonly #db: Database.Database;
  readonly #s;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = {
      revision: db.prepare<[], { revision: number }>('SELECT revision FROM definition_revision WHERE id = 1'),
      bump: db.prepare<[], { revision: number }>('UPDATE definition_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision'),
      list: db.prepare<[], Row>('SELECT kind, id, source, body, changed_by, changed_at FROM definition ORDER BY kind, id'),
      get: db.prepare<[DefinitionKind, string], Row>('SELECT kind, id, source, body, changed_by, changed_at FROM definition WHERE kind = ? AND id = ?'),
      insert: db.prepare<[DefinitionKind, string, DefinitionSource, string, string, number]>(
        'INSERT INTO definition (kind, id, source, body, changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      upsert: db.prepare<[DefinitionKind, string, DefinitionSource, string, string, number]>(
        `INSERT INTO definition (kind, id, source, body, changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET source = excluded.source, body = excluded.body, changed_by = excluded.changed_by, changed_at = excluded.changed_at`),
      update: db.prepare<[string, string, number, DefinitionKind, string]>(
        "UPDATE definition SET body = ?, changed_by = ?, changed_at = ? WHERE kind = ? AND id = ? AND source = 'api'"),
      remove: db.prepare<[DefinitionKind, string]>("DELETE FROM definition WHERE kind = ? AND id = ? AND source = 'api'"),
      remove_file: db.prepare<[DefinitionKind, string]>("DELETE FROM definition WHERE kind = ? AND id = ? AND source = 'file'"),
      used: db.prepare<[string], { id: string }>("SELECT id FROM definition WHERE kind = 'mailbox' AND json_extract(body, '$.profile') = ? LIMIT 1"),
    };
  }

  revision(): number {
    return this.#s.revision.get()?.revision ?? 0;
  }

  list(): Definition[] {
    return this.#s.list.all().map(toDefinition);
  }

  get(kind: DefinitionKind, id: string): Definition | undefined {
    const row = this.#s.get.get(kind, id);
    return row && toDefinition(row);
  }

  create(def: DefinitionInput, expected?: number): DefinitionWrite {
    return this.#db.transaction((): DefinitionWrite => {
      if (this.#stale(expected)) return { ok: false, refusal: 'stale' };
      const done = this.#s.insert.run(def.kind, def.id, 'api', JSON.stringify(def.body), def.changedBy, def.changedAt);
      return done.changes === 1 ? this.#bumped() : this.#refused(def.kind, def.id, 'exists');
    })();
  }

  update(def: DefinitionInput, expected?: number): DefinitionWrite {
    return this.#db.transaction((): DefinitionWrite => {
      if (this.#stale(expected)) return { ok: false, refusal: 'stale' };
      const done = this.#s.update.run(JSON.stringify(def.body), def.changedBy, def.changedAt, def.kind, def.id);
      return done.changes === 1 ? this.#bumped() : this.#refused(def.kind, def.id, 'missing');
    })();
  }

  remove(kind: DefinitionKind, id: string, expected?: number): DefinitionWrite {
    return this.#db.transaction((): DefinitionWrite => {
      if (this.#stale(expected)) return { ok: false, refusal: 'stale' };
      // In the delete's own transaction: a mailbox created meanwhile cannot be left without its profile.
      if (kind === 'profile' && this.get(kind, id)?.source === 'api' && this.#s.used.get(id)) return { ok: false, refusal: 'in_use' };
      return this.#s.remove.run(kind, id).changes === 1 ? this.#bumped() : this.#refused(kind, id, 'missing');
    })();
  }

  importFile(defs: DefinitionInput[]): FileImport {
    return this.#db.transaction((): FileImport => {
      const { upserts, removals, result } = planFileImport(this.list(), defs);
      for (const def of upserts) this.#s.upsert.run(def.kind, def.id, 'file', JSON.stringify(def.body), def.changedBy, def.changedAt);
      for (const old of removals) this.#s.remove_file.run(old.kind, old.id);
      result.revision = importMoved(result) ? (this.#s.bump.get()?.revision ?? 0) : this.revision();
      return result;
    })();
  }

  #stale(expected: number | undefined): boolean {
    return expected !== undefined && this.revision() !== expected;
  }

  #bumped(): DefinitionWrite {
    return { ok: true, revision: this.#s.bump.get()?.revision ?? 0 };
  }

  #refused(kind: DefinitionKind, id: string, otherwise: 'exists' | 'missing'): DefinitionWrite {
    const row = this.get(kind, id);
    if (row?.source === 'file') return { ok: false, refusal: 'file', source: 'file' };
    return row ? { ok: false, refusal: otherwise, source: row.source } : { ok: false, refusal: 'missing' };
  }
}
