import { Readable } from 'node:stream';
import type { EmailQuery, EmailRecord, ItemFailureQuery, ItemFailureRecord } from '../record-types.js';
import { RAW_CHUNK_BYTES } from '../sqlite/mail-records.js';
import type { Db, Values } from './connection.js';

interface RecordRow {
  id: number; mailbox_id: string; message_id: string | null; from_addr: string | null; to_addrs: string | null;
  cc_addrs: string | null; subject: string | null; sent_at: number | null; size: number; sha: string; first_seen_at: number;
  has_attachments: number | null; folders: string[];
}

const COLUMNS = `e.id, e.mailbox_id, e.message_id, e.from_addr, e.to_addrs, e.cc_addrs, e.subject, e.sent_at, e.size,
  encode(e.content_sha256, 'hex') AS sha, e.first_seen_at, e.has_attachments,
  array(SELECT DISTINCT folder FROM email_location l WHERE l.email_id = e.id ORDER BY folder) AS folders`;

type Filter = [clause: (n: string) => string, value: unknown];

/** The records API's reads in PostgreSQL: keyset pages, one email, raw bytes in slices, item failures. */
export class PgMailRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async queryEmails(q: EmailQuery): Promise<EmailRecord[]> {
    const filters: Filter[] = [
      [(n) => `e.mailbox_id = ${n}`, q.mailboxId],
      [(n) => `e.id > ${n}`, q.afterId ?? 0],
      [(n) => `EXISTS (SELECT 1 FROM email_location l WHERE l.email_id = e.id AND l.folder = ${n})`, q.folder],
      [(n) => `e.first_seen_at >= ${n}`, q.receivedSince],
      [(n) => `e.first_seen_at < ${n}`, q.receivedUntil],
      // strpos, not LIKE: a % or _ in what the user typed is matched as itself.
      [(n) => `strpos(lower(e.from_addr), lower(${n})) > 0`, q.from],
      [(n) => `strpos(lower(e.subject), lower(${n})) > 0`, q.subjectContains],
      [(n) => `e.has_attachments = ${n}`, q.hasAttachments === undefined ? undefined : Number(q.hasAttachments)],
    ];
    return (await this.#select<RecordRow>(`SELECT ${COLUMNS} FROM email e`, filters, 'ORDER BY e.id', q.limit)).map(toRecord);
  }

  async getEmail(mailboxId: string, id: number): Promise<EmailRecord | undefined> {
    const [row] = await this.#db.read<RecordRow>(`SELECT ${COLUMNS} FROM email e WHERE e.mailbox_id = $1 AND e.id = $2`, [mailboxId, id]);
    return row && toRecord(row);
  }

  /**
   * The bytes in slices with substring(): each slice is one short query on a pooled connection, so
   * a long download holds neither a connection nor the whole value (the column is stored EXTERNAL,
   * uncompressed, so PostgreSQL reads only the slice's TOAST chunks).
   */
  async openRaw(emailId: number): Promise<Readable | undefined> {
    // The size and the first slice in one query: most mail is one slice, so one round trip.
    const [row] = await this.#db.read<{ n: number; part: Buffer }>(
      'SELECT octet_length(raw) AS n, substring(raw FROM 1 FOR $2) AS part FROM email WHERE id = $1', [emailId, RAW_CHUNK_BYTES]);
    if (row === undefined) return undefined;
    const size = row.n;
    const db = this.#db;
    let first: Buffer | undefined = row.part;
    let offset = 0;
    return new Readable({
      highWaterMark: RAW_CHUNK_BYTES,
      read() {
        const took = (part: Buffer | undefined) => {
          if (!part || part.length === 0) {
            this.destroy(new Error(`email ${emailId}: its raw bytes ended at ${offset} of ${size}`));
            return;
          }
          offset += part.length;
          this.push(part);
          if (offset >= size) this.push(null);
        };
        if (size === 0) {
          this.push(null);
          return;
        }
        if (first) {
          const part = first;
          first = undefined;
          took(part);
          return;
        }
        db.read<{ part: Buffer }>('SELECT substring(raw FROM $1 FOR $2) AS part FROM email WHERE id = $3', [offset + 1, RAW_CHUNK_BYTES, emailId])
          .then(([slice]) => took(slice?.part), (error: unknown) => this.destroy(error as Error));
      },
    });
  }

  async queryItemFailures(q: ItemFailureQuery): Promise<ItemFailureRecord[]> {
    const filters: Filter[] = [
      [(n) => `f.mailbox_id = ${n}`, q.mailboxId],
      [(n) => `f.code = ${n}`, q.code],
      [(n) => `f.direction = ${n}`, q.direction],
      [(n) => `f.last_seen_at >= ${n}`, q.since],
      [(n) => `f.last_seen_at < ${n}`, q.until],
      [(n) => `f.id < ${n}`, q.beforeId],
    ];
    return this.#select<ItemFailureRecord>(`SELECT f.id, f.mailbox_id AS "mailboxId", f.direction, f.folder, f.uidvalidity, f.uid, f.code,
      f.detail, f.size, f.email_id AS "emailId", f.first_seen_at AS "firstSeenAt", f.last_seen_at AS "lastSeenAt", f.count,
      coalesce(f.subject, e.subject) AS subject, coalesce(f.message_id, e.message_id) AS "messageId"
      FROM item_failure f LEFT JOIN email e ON e.id = f.email_id`, filters, 'ORDER BY f.id DESC', q.limit);
  }

  /** `base` with the filters that have a value, numbered $1.. in order, and the limit last. */
  #select<R extends object>(base: string, filters: Filter[], order: string, limit: number): Promise<R[]> {
    const values: unknown[] = [];
    const clauses = filters.filter(([, value]) => value !== undefined).map(([clause, value]) => {
      values.push(value);
      return clause(`$${values.length}`);
    });
    values.push(limit);
    const sql = `${base} WHERE ${clauses.join(' AND ') || 'true'} ${order} LIMIT $${values.length}`;
    return this.#db.read<R & Record<string, unknown>>(sql, values as Values);
  }
}

function toRecord(r: RecordRow): EmailRecord {
  return {
    id: r.id, mailboxId: r.mailbox_id, messageId: r.message_id, from: r.from_addr, to: r.to_addrs, cc: r.cc_addrs,
    subject: r.subject, sentAt: r.sent_at, size: r.size, contentSha256: r.sha, firstSeenAt: r.first_seen_at,
    hasAttachments: r.has_attachments === null ? null : r.has_attachments === 1,
    folders: r.folders,
  };
}
