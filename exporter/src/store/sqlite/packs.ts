import type Database from 'better-sqlite3';
import type { PackRef } from '../packs/writer.js';

/** A pack as the store sees it: how many bytes rows point at, and where the last one ends. */
export interface PackUsage {
  packId: number;
  referencedBytes: number;
  /** End of the furthest referenced range (0 when nothing points into the pack). */
  end: number;
}

/** One stored email's raw bytes for the checker: inline, or a range of a pack. */
export interface RawRow {
  id: number;
  mailboxId: string;
  sha256: Buffer;
  inline: Buffer | null;
  ref: PackRef | null;
}

/** The pack table and the email rows' references into packs. */
export class SqlitePacks {
  readonly #s;
  readonly #move: (moves: { id: number; ref: PackRef }[]) => void;

  constructor(db: Database.Database) {
    this.#s = prepare(db);
    this.#move = db.transaction((moves: { id: number; ref: PackRef }[]) => {
      for (const m of moves) this.#s.moveRef.run(m.ref.packId, m.ref.offset, m.id);
    });
  }

  /** A new pack's id, committed before its file is created. */
  register(at: number): number {
    return Number(this.#s.insert.run(at).lastInsertRowid);
  }

  packIds(): number[] {
    return (this.#s.ids.all() as { id: number }[]).map((r) => r.id);
  }

  usage(): PackUsage[] {
    return this.#s.usage.all() as PackUsage[];
  }

  /** The rows pointing into one pack, in file order (compaction copies them in that order). */
  refsIn(packId: number): { id: number; ref: PackRef }[] {
    return (this.#s.refsIn.all(packId) as { id: number; offset: number; length: number }[])
      .map((r) => ({ id: r.id, ref: { packId, offset: r.offset, length: r.length } }));
  }

  /** Points rows at their copies in another pack, all in one transaction. */
  moveRefs(moves: { id: number; ref: PackRef }[]): void {
    this.#move(moves);
  }

  /** Forgets a pack nothing points into (its file is removed after this commits). */
  drop(packId: number): void {
    this.#s.drop.run(packId, packId);
  }

  /** Raw rows after `afterId`, in id order: the store check pages through every email with this. */
  rawRows(afterId: number, limit: number): RawRow[] {
    return (this.#s.rawRows.all(afterId, limit) as { id: number; mailbox_id: string; sha: Buffer; raw: Buffer; pack_id: number | null; pack_offset: number | null; size: number }[])
      .map((r) => ({
        id: r.id, mailboxId: r.mailbox_id, sha256: r.sha,
        inline: r.pack_id === null ? r.raw : null,
        ref: r.pack_id === null ? null : { packId: r.pack_id, offset: r.pack_offset as number, length: r.size },
      }));
  }

  countEmails(): number {
    return (this.#s.count.get() as { n: number }).n;
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO pack (created_at) VALUES (?)'),
    ids: db.prepare('SELECT id FROM pack ORDER BY id'),
    usage: db.prepare(`SELECT p.id AS packId, coalesce(sum(e.size), 0) AS referencedBytes,
      coalesce(max(e.pack_offset + e.size), 0) AS "end" FROM pack p LEFT JOIN email e ON e.pack_id = p.id GROUP BY p.id ORDER BY p.id`),
    refsIn: db.prepare('SELECT id, pack_offset AS offset, size AS length FROM email WHERE pack_id = ? ORDER BY pack_offset'),
    moveRef: db.prepare('UPDATE email SET pack_id = ?, pack_offset = ? WHERE id = ?'),
    drop: db.prepare('DELETE FROM pack WHERE id = ? AND NOT EXISTS (SELECT 1 FROM email WHERE pack_id = ?)'),
    rawRows: db.prepare(`SELECT id, mailbox_id, content_sha256 AS sha, CASE WHEN pack_id IS NULL THEN raw END AS raw, pack_id, pack_offset, size
      FROM email WHERE id > ? ORDER BY id LIMIT ?`),
    count: db.prepare('SELECT count(*) AS n FROM email'),
  };
}
