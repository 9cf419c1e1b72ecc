import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { SqliteMailRecords } from './mail-records.js';
import type { EmailQuery, EmailRecord, ItemFailureQuery, ItemFailureRecord } from '../record-types.js';
import type { BatchOutcome, Direction, FolderBatch, FolderCursor, IngestedEmail, ItemFailure, StoredEmail } from '../types.js';
import type { SqliteFeed } from './feed.js';
import type { PackRef } from '../packs/writer.js';

/** Where each new email's bytes were written, by SHA-256 (hex); absent: the bytes go inline in the row. */
export type PackedBytes = Map<string, PackRef>;

/** A stored email's raw bytes: inline in its row, or where they are in a pack. */
export type RawLocation = { inline: Buffer } | { ref: PackRef };

/** Incoming mail in SQLite: cursors, emails (unique per mailbox and content), locations, item failures. */
export class SqliteMail {
  readonly #s;
  readonly #commitTx: (batch: FolderBatch, packed: PackedBytes | undefined) => BatchOutcome;
  readonly #records: SqliteMailRecords;

  constructor(db: Database.Database, feed: SqliteFeed) {
    this.#s = prepare(db);
    this.#records = new SqliteMailRecords(db);
    this.#commitTx = db.transaction((b: FolderBatch, packed: PackedBytes | undefined) => writeBatch(this.#s, b, packed, feed));
  }

  getCursor(mailboxId: string, folder: string): FolderCursor | undefined {
    const row = this.#s.getCursor.get(mailboxId, folder) as { uidvalidity: number; last_uid: number } | undefined;
    return row && { uidvalidity: row.uidvalidity, lastUid: row.last_uid };
  }

  setCursor(mailboxId: string, folder: string, cursor: FolderCursor, at: number): void {
    this.#s.upsertCursor.run(mailboxId, folder, cursor.uidvalidity, cursor.lastUid, at);
  }

  /** `packed`: where the new emails' bytes already are (synced); emails not in it are stored inline. */
  commitBatch(batch: FolderBatch, packed?: PackedBytes): BatchOutcome {
    return this.#commitTx(batch, packed);
  }

  /** The batch's emails not stored yet for the mailbox, each content once: only those need writing. */
  unstored(mailboxId: string, emails: IngestedEmail[]): IngestedEmail[] {
    const seen = new Set<string>();
    return emails.filter((e) => {
      const key = e.sha256.toString('hex');
      if (seen.has(key)) return false;
      seen.add(key);
      return this.#s.findEmail.get(mailboxId, e.sha256) === undefined;
    });
  }

  rawLocation(id: number): RawLocation | undefined {
    const row = this.#s.rawLocation.get(id) as { raw: Buffer | null; pack_id: number | null; pack_offset: number; size: number } | undefined;
    if (!row) return undefined;
    return row.pack_id === null ? { inline: row.raw as Buffer } : { ref: { packId: row.pack_id, offset: row.pack_offset, length: row.size } };
  }

  /** Where an email's bytes are without reading them: a pack range, or `inline` in its row. */
  rawPlace(id: number): { ref: PackRef } | 'inline' | undefined {
    const row = this.#s.rawPlace.get(id) as { pack_id: number | null; pack_offset: number; size: number } | undefined;
    if (!row) return undefined;
    return row.pack_id === null ? 'inline' : { ref: { packId: row.pack_id, offset: row.pack_offset, length: row.size } };
  }

  countEmails(mailboxId: string): number {
    return (this.#s.countEmails.get(mailboxId) as { n: number }).n;
  }

  listEmails(mailboxId: string, limit = 100, offset = 0): StoredEmail[] {
    return (this.#s.listEmails.all(mailboxId, limit, offset) as EmailRow[]).map(toEmail);
  }

  emailLocations(mailboxId: string): { folder: string; uidvalidity: number; uid: number; emailId: number }[] {
    return this.#s.locations.all(mailboxId) as { folder: string; uidvalidity: number; uid: number; emailId: number }[];
  }

  listItemFailures(mailboxId: string): ItemFailure[] {
    return this.#s.listFailures.all(mailboxId) as ItemFailure[];
  }

  itemFailureCounts(): { mailboxId: string; direction: Direction; code: string; count: number }[] {
    return this.#s.itemFailureCounts.all() as { mailboxId: string; direction: Direction; code: string; count: number }[];
  }

  // The records API's reads (store/sqlite/mail-records.ts).
  queryEmails(q: EmailQuery): EmailRecord[] {
    return this.#records.queryEmails(q);
  }

  getEmail(mailboxId: string, id: number): EmailRecord | undefined {
    return this.#records.getEmail(mailboxId, id);
  }

  /** Inline bytes (rows from before pack files, in-memory stores) in slices; pack bytes: RawBytes.open. */
  openInlineRaw(emailId: number): Readable | undefined {
    return this.#records.openRaw(emailId);
  }

  setHasAttachments(emailId: number, hasAttachments: boolean): void {
    this.#records.setHasAttachments(emailId, hasAttachments);
  }

  queryItemFailures(q: ItemFailureQuery): ItemFailureRecord[] {
    return this.#records.queryItemFailures(q);
  }
}

type Statements = ReturnType<typeof prepare>;

const NO_BYTES = Buffer.alloc(0);

function writeBatch(s: Statements, b: FolderBatch, packed: PackedBytes | undefined, feed: SqliteFeed): BatchOutcome {
  let inserted = 0;
  const emailIdByUid = new Map<number, number>();
  const headersByUid = new Map(b.emails.map((e) => [e.uid, e.headers]));
  for (const e of b.emails) {
    const h = e.headers;
    const ref = packed?.get(e.sha256.toString('hex'));
    const row = s.insertEmail.get(
      b.mailboxId, e.sha256, h.messageId, h.from, h.to, h.cc, h.subject, h.sentAt, e.raw.length, ref ? NO_BYTES : e.raw,
      ref?.packId ?? null, ref?.offset ?? null, b.at, e.hasAttachments === undefined ? null : Number(e.hasAttachments),
    ) as { id: number } | undefined;
    let id = row?.id;
    if (id === undefined) id = (s.findEmail.get(b.mailboxId, e.sha256) as { id: number }).id;
    else {
      inserted += 1;
      // Only a first store is a change; the incoming filter keeps some emails out of the feed.
      if (e.publish !== false) feed.append(emailStored(b, e, id));
    }
    s.upsertLocation.run(b.mailboxId, b.folder, b.uidvalidity, e.uid, id);
    emailIdByUid.set(e.uid, id);
  }
  for (const f of b.failures) {
    s.upsertFailure.run({
      mailbox: b.mailboxId, direction: 'incoming', folder: b.folder, uidvalidity: b.uidvalidity, uid: f.uid,
      code: f.code, detail: f.detail, size: f.size, emailId: emailIdByUid.get(f.uid) ?? null, at: b.at,
      subject: f.subject ?? headersByUid.get(f.uid)?.subject ?? null, messageId: f.messageId ?? headersByUid.get(f.uid)?.messageId ?? null,
    });
  }
  s.upsertCursor.run(b.mailboxId, b.folder, b.uidvalidity, b.lastUid, b.at);
  return { inserted, alreadyStored: b.emails.length - inserted };
}

/** A: the change an email's first store writes (both drivers). */
export function emailStored(b: FolderBatch, e: IngestedEmail, emailId: number) {
  const h = e.headers;
  return {
    kind: 'email_stored' as const, mailboxId: b.mailboxId, refId: emailId, at: b.at,
    data: { emailId, folder: b.folder, uid: e.uid, messageId: h.messageId, from: h.from, to: h.to, subject: h.subject, sentAt: h.sentAt, size: e.raw.length },
  };
}

export interface EmailRow {
  id: number; mailbox_id: string; message_id: string | null; from_addr: string | null; to_addrs: string | null;
  cc_addrs: string | null; subject: string | null; sent_at: number | null; size: number; sha: string; first_seen_at: number;
}

export function toEmail(r: EmailRow): StoredEmail {
  return {
    id: r.id, mailboxId: r.mailbox_id, messageId: r.message_id, from: r.from_addr, to: r.to_addrs, cc: r.cc_addrs,
    subject: r.subject, sentAt: r.sent_at, size: r.size, contentSha256: r.sha, firstSeenAt: r.first_seen_at,
  };
}

function prepare(db: Database.Database) {
  return {
    getCursor: db.prepare('SELECT uidvalidity, last_uid FROM folder_cursor WHERE mailbox_id = ? AND folder = ?'),
    upsertCursor: db.prepare(`INSERT INTO folder_cursor (mailbox_id, folder, uidvalidity, last_uid, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox_id, folder) DO UPDATE
      SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`),
    insertEmail: db.prepare(`INSERT INTO email (mailbox_id, content_sha256, message_id, from_addr, to_addrs, cc_addrs,
      subject, sent_at, size, raw, pack_id, pack_offset, first_seen_at, has_attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mailbox_id, content_sha256) DO NOTHING RETURNING id`),
    findEmail: db.prepare('SELECT id FROM email WHERE mailbox_id = ? AND content_sha256 = ?'),
    upsertLocation: db.prepare(`INSERT INTO email_location (mailbox_id, folder, uidvalidity, uid, email_id)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET email_id = excluded.email_id`),
    upsertFailure: db.prepare(`INSERT INTO item_failure (mailbox_id, direction, folder, uidvalidity, uid, code, detail,
      size, email_id, first_seen_at, last_seen_at, subject, message_id)
      VALUES (@mailbox, @direction, @folder, @uidvalidity, @uid, @code, @detail, @size, @emailId, @at, @at, @subject, @messageId)
      ON CONFLICT (mailbox_id, folder, uidvalidity, uid, code) DO UPDATE
      SET count = count + 1, last_seen_at = excluded.last_seen_at, detail = excluded.detail,
        subject = coalesce(excluded.subject, subject), message_id = coalesce(excluded.message_id, message_id)`),
    countEmails: db.prepare('SELECT count(*) AS n FROM email WHERE mailbox_id = ?'),
    listEmails: db.prepare(`SELECT id, mailbox_id, message_id, from_addr, to_addrs, cc_addrs, subject, sent_at, size,
      lower(hex(content_sha256)) AS sha, first_seen_at FROM email WHERE mailbox_id = ? ORDER BY id LIMIT ? OFFSET ?`),
    rawPlace: db.prepare('SELECT pack_id, pack_offset, size FROM email WHERE id = ?'),
    rawLocation: db.prepare('SELECT CASE WHEN pack_id IS NULL THEN raw END AS raw, pack_id, pack_offset, size FROM email WHERE id = ?'),
    locations: db.prepare(`SELECT folder, uidvalidity, uid, email_id AS emailId FROM email_location
      WHERE mailbox_id = ? ORDER BY folder, uidvalidity, uid`),
    listFailures: db.prepare(`SELECT mailbox_id AS mailboxId, direction, folder, uidvalidity, uid, code, detail, size,
      email_id AS emailId, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt, count
      FROM item_failure WHERE mailbox_id = ? ORDER BY last_seen_at DESC, id`),
    itemFailureCounts: db.prepare(`SELECT mailbox_id AS mailboxId, direction, code, sum(count) AS count FROM item_failure
      GROUP BY mailbox_id, direction, code`),
  };
}
