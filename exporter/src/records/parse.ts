import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentStream, MailParser, MessageText } from 'mailparser';
import { lazyModule } from '../lazy.js';

// Loaded on first use: only the records API's body and attachment requests parse MIME, and
// importing mailparser costs about 0.33 s of CPU at start-up (measured against bare node).
const mailparser = lazyModule('mailparser', () => import('mailparser'));

/** One attachment as the API lists it; `index` is its position in MIME order, the download key. */
export interface AttachmentInfo {
  index: number;
  filename: string | null;
  contentType: string;
  /** Decoded octets. */
  size: number;
  /** An inline part the HTML body refers to (cid:), rather than a file attached. */
  related: boolean;
}

/** What the API shows of a body; text and html are cut at MAX_BODY_CHARS so a page stays small. */
export interface ParsedBody {
  text: string | null;
  html: string | null;
  truncated: boolean;
  attachments: AttachmentInfo[];
}

export const MAX_BODY_CHARS = 1024 * 1024;

/** Opens a raw email's bytes (called once the parser is loaded: see `parserThenBytes`). */
export type RawSource = () => Promise<Readable>;

/**
 * Parses a raw email from a stream with mailparser's streaming parser: attachments are counted as
 * they pass and never held, so a 50 MB attachment costs its bytes' passage, not their memory.
 */
export async function parseBody(source: RawSource): Promise<ParsedBody> {
  const { parser, raw } = await parserThenBytes(source);
  const body: ParsedBody = { text: null, html: null, truncated: false, attachments: [] };
  parser.on('data', (part: AttachmentStream | MessageText) => {
    if (part.type === 'text') {
      body.text = cut(part.text, body);
      body.html = typeof part.html === 'string' ? cut(part.html, body) : null;
      return;
    }
    const info: AttachmentInfo = { index: body.attachments.length, filename: part.filename ?? null, contentType: part.contentType, size: 0, related: Boolean(part.related) };
    body.attachments.push(info);
    part.content.on('data', (chunk: Buffer) => { info.size += chunk.length; });
    part.content.on('end', () => part.release?.());
  });
  // 'data' listeners put the parser in flowing mode; pipeline ends when it has emitted everything.
  await pipeline(raw, parser);
  return body;
}

export type AttachmentTarget = (info: AttachmentInfo) => Writable;

/**
 * Streams the attachment at `index` of the email `source` opens into the writable `open` returns
 * once its type and name are known; the other parts pass through unread. Resolves false when the
 * email has no such attachment (nothing was opened then).
 */
export async function streamAttachment(source: RawSource, index: number, open: AttachmentTarget): Promise<boolean> {
  const { parser, raw } = await parserThenBytes(source);
  let seen = 0;
  let delivered: Promise<void> | undefined;
  parser.on('data', (part: AttachmentStream | MessageText) => {
    if (part.type === 'text') return;
    const at = seen++;
    const content = part.content;
    content.on('end', () => part.release?.());
    if (at !== index) {
      content.resume();
      return;
    }
    const info: AttachmentInfo = { index: at, filename: part.filename ?? null, contentType: part.contentType, size: part.size ?? 0, related: Boolean(part.related) };
    delivered = pipeline(content, open(info));
  });
  await pipeline(raw, parser);
  if (delivered) await delivered;
  return delivered !== undefined;
}

/**
 * A parser, then the bytes, in this order: the first call waits for mailparser's import, and a
 * file stream opened before it could fail while nothing listens, crashing the process.
 */
async function parserThenBytes(source: RawSource): Promise<{ parser: MailParser; raw: Readable }> {
  const { MailParser } = await mailparser.load();
  const raw = await source();
  // No link rewriting or text-to-HTML: the API hands over what the message says.
  return { parser: new MailParser({ skipImageLinks: true, skipTextToHtml: true }), raw };
}

function cut(value: string | undefined, body: ParsedBody): string | null {
  if (value === undefined) return null;
  if (value.length <= MAX_BODY_CHARS) return value;
  body.truncated = true;
  return value.slice(0, MAX_BODY_CHARS);
}
