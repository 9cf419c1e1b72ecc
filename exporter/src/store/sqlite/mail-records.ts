import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import type { EmailQuery, EmailRecord, ItemFailureQuery, ItemFailureRecord } from '../record-types.js';

/**
 * Raw bytes are read in slices of this size: better-sqlite3 returns a BLOB whole and has no
 * incremental blob I/O, so `substr()` is how one is streamed. SQLite still loads the whole value to
 * cut each slice (measured: ~100 ms and a transient 50 MB of SQLite's own memory per slice of a
 * 50 MB email), so the slice trades time against the JavaScript side's buffer: 1 MiB keeps a
 * 50 MB download at ~5 s. Pack files (the next raw layout) stream from a file instead.
 */
export const RAW_CHUNK_BYTES = 1024 * 1024;

interface RecordRow {
  id: number; mailbox_id: string; message_id: string | null; from_addr: string | null; to_addrs: string | null;
  cc_addrs: string | null; subject: string | null; sent_at: number | null; size: number; sha: string; first_seen_at: number;
  has_attachments: number | null; folders: string | null;
}

const COLUMNS = `e.id, e.mailbox_id, e.message_id, e.from_addr, e.to_addrs, e.cc_addrs, e.subject, e.sent_at, e.size,
  lower(hex(e.content_sha256)) AS sha, e.first_seen_at, e.has_attachments,
  (SELECT group_concat(folder, char(0)) FROM (SELECT DISTINCT folder FROM email_location l WHERE l.email_id = e.id ORDER BY folder)) AS folders`;

/** The records API's reads of incoming mail: keyset pages, one email, raw bytes in slices, item failures. */
export class SqliteMailRecords {
  readonly #db: Database.Database;
  readonly #one;
  readonly #rawSize;
  readonly #rawSlice;
  readonly #setAttachments;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#one = db.prepare(`SELECT ${COLUMNS} FROM email e WHERE e.mailbox_id = ? AND e.id = ?`);
    this.#rawSize = db.prepare('SELECT length(raw) AS n FROM email WHERE id = ?');
    this.#rawSlice = db.prepare('SELECT substr(raw, ?, ?) AS part FROM email WHERE id = ?');
    this.#setAttachments = db.prepare('UPDATE email SET has_attachments = ? WHERE id = ?');
  }

  queryEmails(q: EmailQuery): EmailRecord[] {
    const filters: Filter[] = [
      ['e.mailbox_id = @mailboxId', 'mailboxId', q.mailboxId],
      ['e.id > @afterId', 'afterId', q.afterId ?? 0],
      ['EXISTS (SELECT 1 FROM email_location l WHERE l.email_id = e.id AND l.folder = @folder)', 'folder', q.folder],
      ['e.first_seen_at >= @receivedSince', 'receivedSince', q.receivedSince],
      ['e.first_seen_at < @receivedUntil', 'receivedUntil', q.receivedUntil],
      // instr, not LIKE: a % or _ in what the user typed is matched as itself.
      ['instr(lower(e.from_addr), lower(@from)) > 0', 'from', q.from],
      ['instr(lower(e.subject), lower(@subjectContains)) > 0', 'subjectContains', q.subjectContains],
      ['e.has_attachments = @hasAttachments', 'hasAttachments', q.hasAttachments === undefined ? undefined : Number(q.hasAttachments)],
    ];
    return (this.#select(`SELECT ${COLUMNS} FROM email e`, filters, 'ORDER BY e.id', q.limit) as RecordRow[]).map(toRecord);
  }

  getEmail(mailboxId: string, id: number): EmailRecord | undefined {
    const row = this.#one.get(mailboxId, id) as RecordRow | undefined;
    return row && toRecord(row);
  }

  openRaw(emailId: number): Readable | undefined {
    const size = (this.#rawSize.get(emailId) as { n: number } | undefined)?.n;
    if (size === undefined) return undefined;
    const slice = this.#rawSlice;
    // Raw bytes never change once stored, so slices read at different times belong together; and
    // each slice is one short synchronous read, so a long download never holds the store.
    let offset = 0;
    return new Readable({
      highWaterMark: RAW_CHUNK_BYTES,
      read() {
        if (offset >= size) {
          this.push(null);
          return;
        }
        try {
          const part = (slice.get(offset + 1, RAW_CHUNK_BYTES, emailId) as { part: Buffer } | undefined)?.part;
          if (!part || part.length === 0) {
            this.destroy(new Error(`email ${emailId}: its raw bytes ended at ${offset} of ${size}`));
            return;
          }
          offset += part.length;
          this.push(part);
        } catch (error) {
          this.destroy(error as Error);
        }
      },
    });
  }

  setHasAttachments(emailId: number, hasAttachments: boolean): void {
    this.#setAttachments.run(Number(hasAttachments), emailId);
  }

  queryItemFailures(q: ItemFailureQuery): ItemFailureRecord[] {
    const filters: Filter[] = [
      ['f.mailbox_id = @mailboxId', 'mailboxId', q.mailboxId],
      ['f.code = @code', 'code', q.code],
      ['f.direction = @direction', 'direction', q.direction],
      ['f.last_seen_at >= @since', 'since', q.since],
      ['f.last_seen_at < @until', 'until', q.until],
      ['f.id < @beforeId', 'beforeId', q.beforeId],
    ];
    return this.#select(`SELECT f.id, f.mailbox_id AS mailboxId, f.direction, f.folder, f.uidvalidity, f.uid, f.code, f.detail,
      f.size, f.email_id AS emailId, f.first_seen_at AS firstSeenAt, f.last_seen_at AS lastSeenAt, f.count,
      coalesce(f.subject, e.subject) AS subject, coalesce(f.message_id, e.message_id) AS messageId
      FROM item_failure f LEFT JOIN email e ON e.id = f.email_id`, filters, 'ORDER BY f.id DESC', q.limit) as ItemFailureRecord[];
  }

  /** Runs `base` with the filters that have a value; statements are kept per SQL text (at most one per filter combination). */
  #select(base: string, filters: Filter[], order: string, limit: number): unknown[] {
    const used = filters.filter(([, , value]) => value !== undefined);
    const sql = `${base} WHERE ${used.map(([clause]) => clause).join(' AND ') || '1 = 1'} ${order} LIMIT @limit`;
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement.all({ ...Object.fromEntries(used.map(([, key, value]) => [key, value])), limit });
  }
}

type Filter = [clause: string, key: string, value: string | number | undefined];

function toRecord(r: RecordRow): EmailRecord {
  return {
    id: r.id, mailboxId: r.mailbox_id, messageId: r.message_id, from: r.from_addr, to: r.to_addrs, cc: r.cc_addrs,
    subject: r.subject, sentAt: r.sent_at, size: r.size, contentSha256: r.sha, firstSeenAt: r.first_seen_at,
    hasAttachments: r.has_attachments === null ? null : r.has_attachments === 1,
    folders: r.folders ? r.folders.split('\0') : [],
  };
}
