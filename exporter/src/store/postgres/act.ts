import { actChange } from '../act-change.js';
import type {
  ActCollectionState, ActCommit, ActCommitOutcome, ActItem, ActItemFailureInput, ActItemVersion, ActPush, ActPushInput, ActPushState,
} from '../act-types.js';
import { hrefNumber } from '../sqlite/act.js';
import type { Db, Tx } from './connection.js';
import { upsertFailure } from './mail.js';

type PushOutcome = { state: Exclude<ActPushState, 'pending'>; at: number; code?: string | null; message?: string | null;
  serverEtag?: string | null; serverData?: string | null };

/**
 * Appointments, contacts and tasks in PostgreSQL. A collection's changes, item failures and new
 * sync token are one transaction (exactly once across a crash, as in SQLite); the items of the
 * collection are locked FOR UPDATE as they are read, so two runners committing the same
 * collection cannot both number the same version.
 */
export class PgAct {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  collections(mailboxId: string): Promise<ActCollectionState[]> {
    return this.#db.read(`SELECT href, kind, name, sync_token AS "syncToken", ctag FROM act_collection WHERE mailbox_id = $1 ORDER BY href`, [mailboxId]);
  }

  commit(c: ActCommit): Promise<ActCommitOutcome> {
    return this.#db.write((tx) => writeCommit(tx, c));
  }

  items(mailboxId: string, options: { collection?: string; includeDeleted?: boolean; limit?: number; offset?: number } = {}): Promise<ActItem[]> {
    return this.#db.read(`SELECT ${ITEM} FROM act_item WHERE mailbox_id = $1 AND ($2::text IS NULL OR collection = $2)
      AND ($3 OR deleted_at IS NULL) ORDER BY collection, href LIMIT $4 OFFSET $5`,
    [mailboxId, options.collection ?? null, options.includeDeleted === true, options.limit ?? 1_000_000, options.offset ?? 0]);
  }

  async item(mailboxId: string, collection: string, href: string): Promise<ActItem | undefined> {
    return (await this.#db.read<ActItem>(`SELECT ${ITEM} FROM act_item WHERE mailbox_id = $1 AND collection = $2 AND href = $3`,
      [mailboxId, collection, href]))[0];
  }

  versions(mailboxId: string, collection: string, href: string): Promise<ActItemVersion[]> {
    return this.#db.read(`SELECT version, change, etag, data, at FROM act_item_version WHERE mailbox_id = $1 AND collection = $2 AND href = $3
      ORDER BY version`, [mailboxId, collection, href]);
  }

  recordItemFailure(mailboxId: string, collection: string, failure: ActItemFailureInput, at: number): Promise<void> {
    return this.#db.write((tx) => actFailure(tx, mailboxId, collection, failure, at));
  }

  async queuePush(p: ActPushInput): Promise<number> {
    const [row] = await this.#db.write((tx) => tx.query<{ id: number }>(`INSERT INTO act_push (mailbox_id, collection, href, action, data, base_etag,
      requested_by, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) RETURNING id`,
    [p.mailboxId, p.collection, p.href, p.action, p.data, p.baseEtag, p.requestedBy, p.at]));
    return (row as { id: number }).id;
  }

  async push(id: number): Promise<ActPush | undefined> {
    return (await this.#db.read<ActPush>(`SELECT ${PUSH} FROM act_push WHERE id = $1`, [id]))[0];
  }

  pushes(mailboxId: string, state?: ActPushState, limit = 100): Promise<ActPush[]> {
    return this.#db.read(`SELECT ${PUSH} FROM act_push WHERE mailbox_id = $1 AND ($2::text IS NULL OR state = $2) ORDER BY id LIMIT $3`,
      [mailboxId, state ?? null, limit]);
  }

  async finishPush(id: number, o: PushOutcome): Promise<void> {
    await this.#db.write((tx) => tx.query(`UPDATE act_push SET state = $2, code = $3, message = $4, server_etag = $5, server_data = $6,
      updated_at = $7 WHERE id = $1`, [id, o.state, o.code ?? null, o.message ?? null, o.serverEtag ?? null, o.serverData ?? null, o.at]));
  }
}

async function writeCommit(tx: Tx, c: ActCommit): Promise<ActCommitOutcome> {
  const out: ActCommitOutcome = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
  const col = c.collection.href;
  const current = new Map((await tx.query<ActItem>(`SELECT ${ITEM} FROM act_item WHERE mailbox_id = $1 AND collection = $2 FOR UPDATE`,
    [c.mailboxId, col])).map((i) => [i.href, i]));
  const seen = new Set<string>();
  for (const change of c.changes) {
    seen.add(change.href);
    const item = current.get(change.href);
    if ('deleted' in change) {
      if (!item || item.deletedAt !== null) continue;
      await markDeleted(tx, c, item);
      out.deleted++;
      continue;
    }
    if (item && item.deletedAt === null && item.etag === change.etag) {
      out.unchanged++;
      continue;
    }
    const version = (item?.version ?? 0) + 1;
    const kind = item && item.deletedAt === null ? 'updated' : 'created';
    await tx.query(`INSERT INTO act_item (mailbox_id, collection, href, kind, uid, etag, data, version, deleted_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9) ON CONFLICT (mailbox_id, collection, href) DO UPDATE
      SET kind = excluded.kind, uid = excluded.uid, etag = excluded.etag, data = excluded.data, version = excluded.version,
        deleted_at = NULL, updated_at = excluded.updated_at`, [c.mailboxId, col, change.href, change.kind, change.uid, change.etag, change.data, version, c.at]);
    await addVersion(tx, c, change.href, version, kind, change.etag, change.data);
    tx.append(actChange(c, change.href, change.kind, change.uid, version, change.etag, kind));
    current.set(change.href, { ...(item as ActItem), href: change.href, etag: change.etag, version, deletedAt: null });
    out[kind]++;
  }
  if (c.full) {
    // A full read lists every item the server has; what it did not list is gone.
    for (const item of current.values()) {
      if (item.deletedAt !== null || seen.has(item.href) || c.failures.some((f) => f.href === item.href)) continue;
      await markDeleted(tx, c, item);
      out.deleted++;
    }
  }
  for (const f of c.failures) await actFailure(tx, c.mailboxId, col, f, c.at);
  const k = c.collection;
  await tx.query(`INSERT INTO act_collection (mailbox_id, href, kind, name, sync_token, ctag, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (mailbox_id, href) DO UPDATE SET kind = excluded.kind, name = excluded.name, sync_token = excluded.sync_token,
      ctag = excluded.ctag, updated_at = excluded.updated_at`, [c.mailboxId, col, k.kind, k.name, k.syncToken, k.ctag, c.at]);
  return out;
}

async function markDeleted(tx: Tx, c: ActCommit, item: ActItem): Promise<void> {
  const version = item.version + 1;
  await tx.query(`UPDATE act_item SET deleted_at = $4, version = $5, updated_at = $4 WHERE mailbox_id = $1 AND collection = $2 AND href = $3`,
    [c.mailboxId, c.collection.href, item.href, c.at, version]);
  await addVersion(tx, c, item.href, version, 'deleted', null, null);
  tx.append(actChange(c, item.href, item.kind, item.uid, version, null, 'deleted'));
}

async function addVersion(tx: Tx, c: ActCommit, href: string, version: number, change: ActItemVersion['change'], etag: string | null, data: string | null) {
  await tx.query(`INSERT INTO act_item_version (mailbox_id, collection, href, version, change, etag, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.mailboxId, c.collection.href, href, version, change, etag, data, c.at]);
}

/** Shares the mail's item-failure table, as SQLite does (store/sqlite/act.ts says why). */
function actFailure(tx: Tx, mailboxId: string, collection: string, f: ActItemFailureInput, at: number): Promise<void> {
  return upsertFailure(tx, {
    mailbox: mailboxId, direction: 'act', folder: collection, uidvalidity: 0, uid: hrefNumber(f.href), code: f.code,
    detail: `${f.href}: ${f.detail}`, size: null, emailId: null, at, subject: null, messageId: null,
  });
}

const ITEM = `collection, href, kind, uid, etag, data, version, deleted_at AS "deletedAt", updated_at AS "updatedAt"`;
const PUSH = `id, mailbox_id AS "mailboxId", collection, href, action, data, base_etag AS "baseEtag", requested_by AS "requestedBy",
  created_at AS at, state, code, message, server_etag AS "serverEtag", server_data AS "serverData", updated_at AS "updatedAt"`;
