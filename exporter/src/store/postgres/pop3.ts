import type { Db } from './connection.js';

/** POP3 leave-on-server sync state in PostgreSQL: the UIDLs of each maildrop already stored. */
export class PgPop3 {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async seenUidls(mailboxId: string): Promise<Map<string, number>> {
    const rows = await this.#db.read<{ uidl: string; id: number }>('SELECT uidl, id FROM pop3_uidl WHERE mailbox_id = $1', [mailboxId]);
    return new Map(rows.map((r) => [r.uidl, r.id]));
  }

  /** One statement for the batch: new UIDLs inserted, known ones found, each with its id. */
  markSeen(mailboxId: string, uidls: string[], at: number): Promise<Map<string, number>> {
    return this.#db.write(async (tx) => {
      await tx.query(`INSERT INTO pop3_uidl (mailbox_id, uidl, seen_at) SELECT $1::text, u, $3::bigint FROM unnest($2::text[]) AS u
        ON CONFLICT (mailbox_id, uidl) DO NOTHING`, [mailboxId, uidls, at]);
      const rows = await tx.query<{ uidl: string; id: number }>('SELECT uidl, id FROM pop3_uidl WHERE mailbox_id = $1 AND uidl = ANY($2::text[])',
        [mailboxId, uidls]);
      const ids = new Map(rows.map((r) => [r.uidl, r.id]));
      return new Map(uidls.map((u) => [u, ids.get(u) as number]));
    });
  }

  async pruneMissing(mailboxId: string, onServer: string[]): Promise<number> {
    const gone = await this.#db.write((tx) => tx.query('DELETE FROM pop3_uidl WHERE mailbox_id = $1 AND NOT (uidl = ANY($2::text[])) RETURNING id',
      [mailboxId, onServer]));
    return gone.length;
  }
}
