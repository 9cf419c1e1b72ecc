import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type {
  ActCollectionState, ActCommit, ActCommitOutcome, ActItem, ActItemFailureInput, ActItemVersion, ActPush, ActPushInput, ActPushState,
} from '../act-types.js';
import { actChange } from '../act-change.js';
import type { SqliteFeed } from './feed.js';

/**
 * C: appointments, contacts and tasks in SQLite. A collection's changes, its item failures and its
 * new sync token are written in one transaction, so a crash either keeps all of them or none: the
 * next cycle asks with the old token and gets the same changes again, and an item whose ETag is
 * already stored is not stored twice.
 */
export class SqliteAct {
  readonly #s;
  readonly #commitTx: (c: ActCommit) => ActCommitOutcome;

  constructor(db: Database.Database, feed: SqliteFeed) {
    this.#s = prepare(db);
    this.#commitTx = db.transaction((c: ActCommit) => writeCommit(this.#s, c, feed));
  }

  collections(mailboxId: string): ActCollectionState[] {
    return this.#s.collections.all(mailboxId) as ActCollectionState[];
  }

  commit(c: ActCommit): ActCommitOutcome {
    return this.#commitTx(c);
  }

  items(mailboxId: string, options: { collection?: string; includeDeleted?: boolean; limit?: number; offset?: number } = {}): ActItem[] {
    return this.#s.items.all({
      mailbox: mailboxId, collection: options.collection ?? null, deleted: options.includeDeleted ? 1 : 0,
      limit: options.limit ?? 1_000_000, offset: options.offset ?? 0,
    }) as ActItem[];
  }

  item(mailboxId: string, collection: string, href: string): ActItem | undefined {
    return this.#s.item.get(mailboxId, collection, href) as ActItem | undefined;
  }

  versions(mailboxId: string, collection: string, href: string): ActItemVersion[] {
    return this.#s.versions.all(mailboxId, collection, href) as ActItemVersion[];
  }

  recordItemFailure(mailboxId: string, collection: string, failure: ActItemFailureInput, at: number): void {
    upsertFailure(this.#s, mailboxId, collection, failure, at);
  }

  queuePush(p: ActPushInput): number {
    const row = this.#s.queuePush.get({ ...p }) as { id: number };
    return row.id;
  }

  push(id: number): ActPush | undefined {
    return this.#s.push.get(id) as ActPush | undefined;
  }

  pushes(mailboxId: string, state?: ActPushState, limit = 100): ActPush[] {
    return this.#s.pushes.all({ mailbox: mailboxId, state: state ?? null, limit }) as ActPush[];
  }

  finishPush(id: number, o: { state: Exclude<ActPushState, 'pending'>; at: number; code?: string | null; message?: string | null;
    serverEtag?: string | null; serverData?: string | null }): void {
    this.#s.finishPush.run({ id, state: o.state, at: o.at, code: o.code ?? null, message: o.message ?? null,
      serverEtag: o.serverEtag ?? null, serverData: o.serverData ?? null });
  }
}

type Statements = ReturnType<typeof prepare>;

function writeCommit(s: Statements, c: ActCommit, feed: SqliteFeed): ActCommitOutcome {
  const out: ActCommitOutcome = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
  const seen = new Set<string>();
  const col = c.collection.href;
  for (const change of c.changes) {
    seen.add(change.href);
    const current = s.item.get(c.mailboxId, col, change.href) as ActItem | undefined;
    if ('deleted' in change) {
      if (!current || current.deletedAt !== null) continue;
      markDeleted(s, c, current, feed);
      out.deleted++;
      continue;
    }
    if (current && current.deletedAt === null && current.etag === change.etag) {
      out.unchanged++;
      continue;
    }
    const version = (current?.version ?? 0) + 1;
    const kind = current && current.deletedAt === null ? 'updated' : 'created';
    s.upsertItem.run({ mailbox: c.mailboxId, collection: col, href: change.href, kind: change.kind, uid: change.uid, etag: change.etag,
      data: change.data, version, at: c.at });
    s.addVersion.run({ mailbox: c.mailboxId, collection: col, href: change.href, version, change: kind, etag: change.etag, data: change.data, at: c.at });
    feed.append(actChange(c, change.href, change.kind, change.uid, version, change.etag, kind));
    out[kind]++;
  }
  if (c.full) {
    // A full read lists every item the server has; what it did not list is gone.
    for (const item of s.liveHrefs.all(c.mailboxId, col) as { href: string }[]) {
      if (seen.has(item.href) || c.failures.some((f) => f.href === item.href)) continue;
      markDeleted(s, c, s.item.get(c.mailboxId, col, item.href) as ActItem, feed);
      out.deleted++;
    }
  }
  for (const f of c.failures) upsertFailure(s, c.mailboxId, col, f, c.at);
  const k = c.collection;
  s.upsertCollection.run({ mailbox: c.mailboxId, href: col, kind: k.kind, name: k.name, token: k.syncToken, ctag: k.ctag, at: c.at });
  return out;
}

function markDeleted(s: Statements, c: ActCommit, current: ActItem, feed: SqliteFeed): void {
  const version = current.version + 1;
  s.deleteItem.run({ mailbox: c.mailboxId, collection: c.collection.href, href: current.href, version, at: c.at });
  s.addVersion.run({ mailbox: c.mailboxId, collection: c.collection.href, href: current.href, version, change: 'deleted', etag: null, data: null, at: c.at });
  feed.append(actChange(c, current.href, current.kind, current.uid, version, null, 'deleted'));
}

/**
 * Item failures share the mail's table (and so its metrics, API and failures view). That table
 * locates an item by folder and UID; an ACT item is the collection and a stable number from its
 * href, with the href itself at the start of the detail.
 */
function upsertFailure(s: Statements, mailboxId: string, collection: string, f: ActItemFailureInput, at: number): void {
  s.upsertFailure.run({ mailbox: mailboxId, folder: collection, uid: hrefNumber(f.href), code: f.code, detail: `${f.href}: ${f.detail}`, at });
}

export function hrefNumber(href: string): number {
  return createHash('sha256').update(href).digest().readUInt32BE(0) >>> 1;
}

const ITEM = `collection, href, kind, uid, etag, data, version, deleted_at AS deletedAt, updated_at AS updatedAt`;
const PUSH = `id, mailbox_id AS mailboxId, collection, href, action, data, base_etag AS baseEtag, requested_by AS requestedBy,
  created_at AS at, state, code, message, server_etag AS serverEtag, server_data AS serverData, updated_at AS updatedAt`;

function prepare(db: Database.Database) {
  return {
    collections: db.prepare(`SELECT href, kind, name, sync_token AS syncToken, ctag FROM act_collection WHERE mailbox_id = ? ORDER BY href`),
    upsertCollection: db.prepare(`INSERT INTO act_collection (mailbox_id, href, kind, name, sync_token, ctag, updated_at)
      VALUES (@mailbox, @href, @kind, @name, @token, @ctag, @at) ON CONFLICT (mailbox_id, href) DO UPDATE
      SET kind = excluded.kind, name = excluded.name, sync_token = excluded.sync_token, ctag = excluded.ctag, updated_at = excluded.updated_at`),
    item: db.prepare(`SELECT ${ITEM} FROM act_item WHERE mailbox_id = ? AND collection = ? AND href = ?`),
    items: db.prepare(`SELECT ${ITEM} FROM act_item WHERE mailbox_id = @mailbox AND (@collection IS NULL OR collection = @collection)
      AND (@deleted = 1 OR deleted_at IS NULL) ORDER BY collection, href LIMIT @limit OFFSET @offset`),
    liveHrefs: db.prepare('SELECT href FROM act_item WHERE mailbox_id = ? AND collection = ? AND deleted_at IS NULL'),
    upsertItem: db.prepare(`INSERT INTO act_item (mailbox_id, collection, href, kind, uid, etag, data, version, deleted_at, updated_at)
      VALUES (@mailbox, @collection, @href, @kind, @uid, @etag, @data, @version, NULL, @at) ON CONFLICT (mailbox_id, collection, href) DO UPDATE
      SET kind = excluded.kind, uid = excluded.uid, etag = excluded.etag, data = excluded.data, version = excluded.version,
        deleted_at = NULL, updated_at = excluded.updated_at`),
    deleteItem: db.prepare(`UPDATE act_item SET deleted_at = @at, version = @version, updated_at = @at
      WHERE mailbox_id = @mailbox AND collection = @collection AND href = @href`),
    addVersion: db.prepare(`INSERT INTO act_item_version (mailbox_id, collection, href, version, change, etag, data, at)
      VALUES (@mailbox, @collection, @href, @version, @change, @etag, @data, @at)`),
    versions: db.prepare(`SELECT version, change, etag, data, at FROM act_item_version
      WHERE mailbox_id = ? AND collection = ? AND href = ? ORDER BY version`),
    upsertFailure: db.prepare(`INSERT INTO item_failure (mailbox_id, direction, folder, uidvalidity, uid, code, detail, size, email_id,
      first_seen_at, last_seen_at) VALUES (@mailbox, 'act', @folder, 0, @uid, @code, @detail, NULL, NULL, @at, @at)
      ON CONFLICT (mailbox_id, folder, uidvalidity, uid, code) DO UPDATE
      SET count = count + 1, last_seen_at = excluded.last_seen_at, detail = excluded.detail`),
    queuePush: db.prepare(`INSERT INTO act_push (mailbox_id, collection, href, action, data, base_etag, requested_by, state, created_at, updated_at)
      VALUES (@mailboxId, @collection, @href, @action, @data, @baseEtag, @requestedBy, 'pending', @at, @at) RETURNING id`),
    push: db.prepare(`SELECT ${PUSH} FROM act_push WHERE id = ?`),
    pushes: db.prepare(`SELECT ${PUSH} FROM act_push WHERE mailbox_id = @mailbox AND (@state IS NULL OR state = @state) ORDER BY id LIMIT @limit`),
    finishPush: db.prepare(`UPDATE act_push SET state = @state, code = @code, message = @message, server_etag = @serverEtag,
      server_data = @serverData, updated_at = @at WHERE id = @id`),
  };
}
