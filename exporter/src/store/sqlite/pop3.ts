import type Database from 'better-sqlite3';

/**
 * POP3 leave-on-server sync state in SQLite: which UIDLs of a mailbox's maildrop are already
 * stored. Rows are written in the same transaction as the emails they stand for
 * (`Store.transaction`), and pruned to what the server still lists, so the table is bounded by
 * the maildrop's size however often the server renumbers its UIDLs.
 */
export class SqlitePop3 {
  readonly #s;
  readonly #pruneTx: (mailboxId: string, ids: number[]) => void;

  constructor(db: Database.Database) {
    this.#s = prepare(db);
    this.#pruneTx = db.transaction((mailboxId: string, ids: number[]) => {
      for (const id of ids) this.#s.remove.run(mailboxId, id);
    });
  }

  /** Every UIDL already stored for the mailbox, with the id its email's location carries. */
  seenUidls(mailboxId: string): Map<string, number> {
    const rows = this.#s.seen.all(mailboxId) as { uidl: string; id: number }[];
    return new Map(rows.map((r) => [r.uidl, r.id]));
  }

  /** Records UIDLs as seen (again: a no-op) and returns each one's id; call inside the batch's transaction. */
  markSeen(mailboxId: string, uidls: string[], at: number): Map<string, number> {
    const ids = new Map<string, number>();
    for (const uidl of uidls) {
      const row = this.#s.insert.get(mailboxId, uidl, at) as { id: number } | undefined;
      ids.set(uidl, row?.id ?? (this.#s.find.get(mailboxId, uidl) as { id: number }).id);
    }
    return ids;
  }

  /** Forgets the UIDLs the server no longer lists (deleted, or renumbered); returns how many. */
  pruneMissing(mailboxId: string, onServer: string[]): number {
    const keep = new Set(onServer);
    const gone = [...this.seenUidls(mailboxId)].filter(([uidl]) => !keep.has(uidl)).map(([, id]) => id);
    if (gone.length > 0) this.#pruneTx(mailboxId, gone);
    return gone.length;
  }
}

function prepare(db: Database.Database) {
  return {
    seen: db.prepare('SELECT uidl, id FROM pop3_uidl WHERE mailbox_id = ?'),
    insert: db.prepare('INSERT INTO pop3_uidl (mailbox_id, uidl, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id'),
    find: db.prepare('SELECT id FROM pop3_uidl WHERE mailbox_id = ? AND uidl = ?'),
    remove: db.prepare('DELETE FROM pop3_uidl WHERE mailbox_id = ? AND id = ?'),
  };
}
