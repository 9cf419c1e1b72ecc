import type { Readable } from 'node:stream';
import type { EmailQuery, EmailRecord, ItemFailureQuery, ItemFailureRecord } from '../record-types.js';
import type { BatchOutcome, Direction, FolderBatch, FolderCursor, IngestedEmail, ItemFailure, StoredEmail } from '../types.js';
import { prepared, type Db, type Tx } from './connection.js';
import { PgMailRecords } from './mail-records.js';
import { emailStored, toEmail, type EmailRow } from '../sqlite/mail.js';

/** Incoming mail in PostgreSQL: cursors, emails (unique per mailbox and content, bytes in the row), locations, item failures. */
export class PgMail {
  readonly #db: Db;
  readonly #records: PgMailRecords;

  constructor(db: Db) {
    this.#db = db;
    this.#records = new PgMailRecords(db);
  }

  async getCursor(mailboxId: string, folder: string): Promise<FolderCursor | undefined> {
    const [row] = await this.#db.read<{ uidvalidity: number; last_uid: number }>(GET_CURSOR, [mailboxId, folder]);
    return row && { uidvalidity: row.uidvalidity, lastUid: row.last_uid };
  }

  async setCursor(mailboxId: string, folder: string, cursor: FolderCursor, at: number): Promise<void> {
    await this.#db.write((tx) => upsertCursor(tx, mailboxId, folder, cursor.uidvalidity, cursor.lastUid, at));
  }

  commitBatch(batch: FolderBatch): Promise<BatchOutcome> {
    return this.#db.write((tx) => writeBatch(tx, batch));
  }

  async countEmails(mailboxId: string): Promise<number> {
    const [row] = await this.#db.read<{ n: number }>('SELECT count(*) AS n FROM email WHERE mailbox_id = $1', [mailboxId]);
    return row?.n ?? 0;
  }

  async listEmails(mailboxId: string, limit = 100, offset = 0): Promise<StoredEmail[]> {
    return (await this.#db.read<EmailRow>(`SELECT id, mailbox_id, message_id, from_addr, to_addrs, cc_addrs, subject, sent_at, size,
      encode(content_sha256, 'hex') AS sha, first_seen_at FROM email WHERE mailbox_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
    [mailboxId, limit, offset])).map(toEmail);
  }

  async getRawEmail(id: number): Promise<Buffer | undefined> {
    const [row] = await this.#db.read<{ raw: Buffer }>('SELECT raw FROM email WHERE id = $1', [id]);
    return row?.raw;
  }

  emailLocations(mailboxId: string): Promise<{ folder: string; uidvalidity: number; uid: number; emailId: number }[]> {
    return this.#db.read(`SELECT folder, uidvalidity, uid, email_id AS "emailId" FROM email_location
      WHERE mailbox_id = $1 ORDER BY folder, uidvalidity, uid`, [mailboxId]);
  }

  listItemFailures(mailboxId: string): Promise<ItemFailure[]> {
    return this.#db.read(`SELECT mailbox_id AS "mailboxId", direction, folder, uidvalidity, uid, code, detail, size,
      email_id AS "emailId", first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", count
      FROM item_failure WHERE mailbox_id = $1 ORDER BY last_seen_at DESC, id`, [mailboxId]);
  }

  itemFailureCounts(): Promise<{ mailboxId: string; direction: Direction; code: string; count: number }[]> {
    return this.#db.read(`SELECT mailbox_id AS "mailboxId", direction, code, sum(count) AS count FROM item_failure
      GROUP BY mailbox_id, direction, code`);
  }

  queryEmails(q: EmailQuery): Promise<EmailRecord[]> {
    return this.#records.queryEmails(q);
  }

  getEmail(mailboxId: string, id: number): Promise<EmailRecord | undefined> {
    return this.#records.getEmail(mailboxId, id);
  }

  openRaw(emailId: number): Promise<Readable | undefined> {
    return this.#records.openRaw(emailId);
  }

  async setHasAttachments(emailId: number, hasAttachments: boolean): Promise<void> {
    await this.#db.write((tx) => tx.query('UPDATE email SET has_attachments = $1 WHERE id = $2', [Number(hasAttachments), emailId]));
  }

  queryItemFailures(q: ItemFailureQuery): Promise<ItemFailureRecord[]> {
    return this.#records.queryItemFailures(q);
  }
}

const GET_CURSOR = prepared('SELECT uidvalidity, last_uid FROM folder_cursor WHERE mailbox_id = $1 AND folder = $2');
const UPSERT_CURSOR = prepared(`INSERT INTO folder_cursor (mailbox_id, folder, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (mailbox_id, folder) DO UPDATE
    SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`);

const INSERT_LOCATIONS = prepared(`INSERT INTO email_location (mailbox_id, folder, uidvalidity, uid, email_id)
  SELECT $1::text, $2::text, $3::bigint, u, id FROM unnest($4::bigint[], $5::bigint[]) AS t(u, id)
  ON CONFLICT (mailbox_id, folder, uidvalidity, uid) DO UPDATE SET email_id = excluded.email_id`);

async function upsertCursor(tx: Tx, mailboxId: string, folder: string, uidvalidity: number, lastUid: number, at: number): Promise<void> {
  await tx.query(UPSERT_CURSOR, [mailboxId, folder, uidvalidity, lastUid, at]);
}

/**
 * The batch's emails, locations, failures and cursor in the caller's transaction, in a handful of
 * statements whatever the batch's size (arrays through unnest): a statement per email was one
 * round trip each and most of the ingest's time. ON CONFLICT DO NOTHING on (mailbox, SHA-256)
 * makes a second runner that fetched the same message (a lease taken over mid-batch) find the
 * first one's row instead of failing or storing it twice.
 */
async function writeBatch(tx: Tx, b: FolderBatch): Promise<BatchOutcome> {
  const bySha = new Map<string, IngestedEmail>();
  for (const e of b.emails) if (!bySha.has(e.sha256.toString('hex'))) bySha.set(e.sha256.toString('hex'), e);
  const fresh = [...bySha.values()];
  // One multi-row VALUES: every value its own parameter, so the raw bytes travel as binary
  // parameters (an array of bytea would be sent and parsed as hex text, twice the bytes). At most
  // 10 per email: sync.batchSize's ceiling (5,000) stays below PostgreSQL's 65,535 parameters.
  const values: unknown[] = [b.mailboxId, b.at];
  const rows = fresh.map((e) => {
    const h = e.headers;
    const first = values.length + 1;
    values.push(e.sha256, h.messageId, h.from, h.to, h.cc, h.subject, h.sentAt, e.raw.length, e.raw, e.hasAttachments === undefined ? null : Number(e.hasAttachments));
    return `($1, ${Array.from({ length: 10 }, (_, i) => `$${first + i}`).join(', ')}, $2)`;
  });
  const inserted = rows.length === 0 ? [] : await tx.query<{ id: number; sha: string }>(`INSERT INTO email (mailbox_id, content_sha256, message_id,
    from_addr, to_addrs, cc_addrs, subject, sent_at, size, raw, has_attachments, first_seen_at) VALUES ${rows.join(', ')}
    ON CONFLICT (mailbox_id, content_sha256) DO NOTHING RETURNING id, encode(content_sha256, 'hex') AS sha`, values);
  const ids = new Map(inserted.map((r) => [r.sha, r.id]));
  const insertedIds = new Set(inserted.map((r) => r.id));
  const known = fresh.filter((e) => !ids.has(e.sha256.toString('hex'))).map((e) => e.sha256);
  if (known.length > 0) {
    for (const r of await tx.query<{ id: number; sha: string }>(`SELECT id, encode(content_sha256, 'hex') AS sha FROM email
      WHERE mailbox_id = $1 AND content_sha256 = ANY($2::bytea[])`, [b.mailboxId, known])) ids.set(r.sha, r.id);
  }
  // Changes in the batch's order: only a first store is a change; the incoming filter keeps some out.
  const published = new Set<string>();
  const emailIdByUid = new Map<number, number>();
  for (const e of b.emails) {
    const sha = e.sha256.toString('hex');
    const id = ids.get(sha) as number;
    emailIdByUid.set(e.uid, id);
    if (insertedIds.has(id) && !published.has(sha)) {
      published.add(sha);
      if (e.publish !== false) tx.append(emailStored(b, e, id));
    }
  }
  if (b.emails.length > 0) {
    await tx.query(INSERT_LOCATIONS, [b.mailboxId, b.folder, b.uidvalidity, b.emails.map((e) => e.uid), b.emails.map((e) => emailIdByUid.get(e.uid))]);
  }
  const headersByUid = new Map(b.emails.map((e) => [e.uid, e.headers]));
  for (const f of b.failures) {
    await upsertFailure(tx, {
      mailbox: b.mailboxId, direction: 'incoming', folder: b.folder, uidvalidity: b.uidvalidity, uid: f.uid, code: f.code,
      detail: f.detail, size: f.size, emailId: emailIdByUid.get(f.uid) ?? null, at: b.at,
      subject: f.subject ?? headersByUid.get(f.uid)?.subject ?? null, messageId: f.messageId ?? headersByUid.get(f.uid)?.messageId ?? null,
    });
  }
  await upsertCursor(tx, b.mailboxId, b.folder, b.uidvalidity, b.lastUid, b.at);
  return { inserted: inserted.length, alreadyStored: b.emails.length - inserted.length };
}

export interface FailureRow {
  mailbox: string; direction: string; folder: string; uidvalidity: number; uid: number; code: string; detail: string;
  size: number | null; emailId: number | null; at: number; subject: string | null; messageId: string | null;
}

/** One row per item and code, bumped when seen again (the ACT direction's failures share it). */
export async function upsertFailure(tx: Tx, f: FailureRow): Promise<void> {
  await tx.query(`INSERT INTO item_failure (mailbox_id, direction, folder, uidvalidity, uid, code, detail, size, email_id,
    first_seen_at, last_seen_at, subject, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)
    ON CONFLICT (mailbox_id, folder, uidvalidity, uid, code) DO UPDATE
    SET count = item_failure.count + 1, last_seen_at = excluded.last_seen_at, detail = excluded.detail,
      subject = coalesce(excluded.subject, item_failure.subject), message_id = coalesce(excluded.message_id, item_failure.message_id)`,
  [f.mailbox, f.direction, f.folder, f.uidvalidity, f.uid, f.code, f.detail, f.size, f.emailId, f.at, f.subject, f.messageId]);
}

