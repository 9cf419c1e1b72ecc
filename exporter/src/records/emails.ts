import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import { OperationError } from '../mailboxes/operation-error.js';
import type { EmailQuery, EmailRecord, Store } from '../store/index.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';
import { parseBody, streamAttachment, type AttachmentTarget, type ParsedBody } from './parse.js';

export type EmailFilter = Omit<EmailQuery, 'mailboxId' | 'afterId' | 'limit'>;
export type EmailWithBody = EmailRecord & { body: ParsedBody };

/**
 * Parsed bodies kept, by email id, up to this many characters of text and html in all (about
 * 64 MB of UTF-16). A stored email never changes, so an entry never goes stale; evicting one only
 * costs a parse on the next read.
 */
export const SUMMARY_CACHE_CHARS = 32 * 1024 * 1024;

export interface EmailRecordsDeps {
  store: Store;
  config: () => Config;
  /** Told each time a body is parsed (not served from the cache): tests and metrics count it. */
  onParse?: (emailId: number) => void;
}

/** A mailbox's synced emails as the records API serves them: pages, one email with its body, raw bytes, attachments. */
export class EmailRecords {
  readonly #d: EmailRecordsDeps;
  readonly #bodies: LRUCache<number, ParsedBody>;

  constructor(deps: EmailRecordsDeps) {
    this.#d = deps;
    this.#bodies = new LRUCache<number, ParsedBody>({
      maxSize: SUMMARY_CACHE_CHARS,
      sizeCalculation: (b) => 256 + (b.text?.length ?? 0) + (b.html?.length ?? 0) + 128 * b.attachments.length,
      // fetch() runs this once per id however many requests ask at the same time.
      fetchMethod: (id) => this.#parse(id),
    });
  }

  async list(mailboxId: string, filter: EmailFilter, cursor: string | undefined, limit: number): Promise<Page<EmailRecord>> {
    this.#mailbox(mailboxId);
    const afterId = decodeCursor('emails', cursor);
    const rows = await this.#d.store.mail.queryEmails({ ...filter, mailboxId, afterId, limit: limit + 1 });
    return pageOf('emails', rows, limit, cursor);
  }

  async get(mailboxId: string, id: number): Promise<EmailWithBody> {
    const email = await this.#email(mailboxId, id);
    const body = await this.#bodies.fetch(id);
    if (!body) throw new Error(`email ${id}: parse gave nothing`);
    // The parse is authoritative: it corrects (or fills in, for older emails) what ingest found.
    const found = body.attachments.length > 0;
    if (email.hasAttachments !== found) {
      await this.#d.store.mail.setHasAttachments(id, found);
      email.hasAttachments = found;
    }
    return { ...email, body };
  }

  async raw(mailboxId: string, id: number): Promise<{ email: EmailRecord; stream: Readable }> {
    const email = await this.#email(mailboxId, id);
    return { email, stream: await this.#open(id) };
  }

  /** Streams attachment `index` into what `open` returns; 404 when the email has no such attachment. */
  async attachment(mailboxId: string, id: number, index: number, open: AttachmentTarget): Promise<void> {
    await this.#email(mailboxId, id);
    const found = await streamAttachment(() => this.#open(id), index, open);
    if (!found) throw new OperationError(404, `email ${id} has no attachment ${index} (GET the email to see its attachment list)`);
  }

  async #parse(id: number): Promise<ParsedBody> {
    this.#d.onParse?.(id);
    return parseBody(() => this.#open(id));
  }

  async #open(id: number): Promise<Readable> {
    const stream = await this.#d.store.mail.openRaw(id);
    if (!stream) throw new OperationError(404, `no email ${id}`);
    return stream;
  }

  async #email(mailboxId: string, id: number): Promise<EmailRecord> {
    this.#mailbox(mailboxId);
    const email = await this.#d.store.mail.getEmail(mailboxId, id);
    if (!email) throw new OperationError(404, `no email ${id} in mailbox "${mailboxId}"`);
    return email;
  }

  #mailbox(mailboxId: string): void {
    if (!this.#d.config().mailboxes.some((m) => m.id === mailboxId)) throw new OperationError(404, `no mailbox "${mailboxId}"`);
  }
}
