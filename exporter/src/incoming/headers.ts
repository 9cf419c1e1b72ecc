import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import type { EmailHeaders } from '../store/index.js';

/**
 * What ingest reads of a message: its header block only. A full MIME parse (mailparser) costs
 * about 1.9 ms per 50 KB message here, eight times the budget of the whole ingest path; the body
 * stays raw in the store and is parsed when someone reads it. Decoding uses the same libraries
 * mailparser does (libmime for RFC 2047 words, nodemailer's address parser).
 */
export type HeaderParse = { ok: true; headers: EmailHeaders } | { ok: false; reason: string; headers: EmailHeaders };

/** Header blocks larger than this are not mail any server would produce; treat them as broken. */
export const MAX_HEADER_BYTES = 256 * 1024;

const EMPTY: EmailHeaders = { messageId: null, from: null, to: null, cc: null, subject: null, sentAt: null };
const FIELD = /^([!-9;-~]+)[ \t]*:(.*)$/s;

export function parseHeaderBlock(raw: Buffer): HeaderParse {
  const end = headerEnd(raw);
  if (end === -1) return { ok: false, reason: 'no blank line ends the header block', headers: EMPTY };
  // latin1 keeps every byte as one character, so 8-bit headers never throw; libmime decodes words.
  // Split on LF and drop a CR before it: the same lines as /\r?\n/, without a regex (measured: it
  // was a tenth of header reading on large recipient lists).
  const lines = raw.toString('latin1', 0, end).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const fields = new Map<string, string>();
  // `current` is the field that continuation lines extend, or null for a repeated field we skip.
  let current: string | null | undefined;
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current === undefined) return { ok: false, reason: 'header block starts with a continuation line', headers: EMPTY };
      if (current !== null) fields.set(current, `${fields.get(current)} ${line.trim()}`);
      continue;
    }
    const match = FIELD.exec(line);
    // An mbox "From " separator line some exporters leave in front is not a header, but harmless.
    if (!match) {
      if (i === 0 && line.startsWith('From ')) continue;
      return { ok: false, reason: `line ${i + 1} of the header block is not a header field`, headers: EMPTY };
    }
    const name = (match[1] as string).toLowerCase();
    // The first occurrence wins for the single-valued fields we read (RFC 5322 allows one of each).
    if (fields.has(name)) current = null;
    else {
      fields.set(name, (match[2] as string).trim());
      current = name;
    }
  }
  if (fields.size === 0) return { ok: false, reason: 'the header block is empty', headers: EMPTY };
  const headers: EmailHeaders = {
    messageId: messageId(fields.get('message-id')),
    from: addresses(fields.get('from')),
    to: addresses(fields.get('to')),
    cc: addresses(fields.get('cc')),
    subject: text(fields.get('subject')),
    sentAt: date(fields.get('date')),
  };
  if (headers.from === null && headers.messageId === null && headers.subject === null && headers.to === null) {
    return { ok: false, reason: 'none of From, To, Subject or Message-ID is present', headers };
  }
  return { ok: true, headers };
}

function headerEnd(raw: Buffer): number {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES);
  // Searched only where the answer can be: a CRLF message has no "\n\n", and a search over the
  // whole of it for one scanned every body byte (a tenth of ingest's CPU on the benchmark corpus).
  const crlf = raw.subarray(0, limit + 3).indexOf('\r\n\r\n');
  const lf = raw.subarray(0, crlf === -1 ? limit + 1 : crlf + 2).indexOf('\n\n');
  const candidates = [crlf, lf].filter((i) => i !== -1 && i < limit);
  if (candidates.length > 0) return Math.min(...candidates);
  // A message that is all headers (no body) is legal.
  return raw.length > 0 && raw.length <= MAX_HEADER_BYTES && /\r?\n$/.test(raw.toString('latin1', raw.length - 2)) ? raw.length : -1;
}

const NON_ASCII = /[\u0080-\uffff]/;

function decode(value: string): string {
  // Plain ASCII (most header values) is the same in UTF-8: no round trip through a buffer.
  if (!NON_ASCII.test(value)) return decodeWords(value);
  const bytes = Buffer.from(value, 'latin1');
  // Raw 8-bit headers are almost always UTF-8 today; fall back to the bytes as latin1 otherwise.
  const utf8 = bytes.toString('utf8');
  return decodeWords(utf8.includes('\uFFFD') ? value : utf8);
}

function decodeWords(text: string): string {
  // Only RFC 2047 encoded words need libmime.
  if (!text.includes('=?')) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

function text(value: string | undefined): string | null {
  return value === undefined ? null : decode(value);
}

function messageId(value: string | undefined): string | null {
  if (value === undefined) return null;
  const bracketed = /<[^>]*>/.exec(value);
  const id = (bracketed ? bracketed[0] : value).trim();
  return id === '' ? null : id;
}

function addresses(value: string | undefined): string | null {
  if (value === undefined) return null;
  const parsed = addressparser(decode(value), { flatten: true });
  const list = parsed
    .map((a) => (a.name ? `"${a.name.replace(/"/g, "'")}" <${a.address}>` : a.address))
    .filter((a) => a !== '');
  return list.length === 0 ? null : list.join(', ');
}

function date(value: string | undefined): number | null {
  if (value === undefined) return null;
  // Comments such as "(UTC)" confuse Date.parse; drop them.
  const ms = Date.parse(value.replace(/\([^)]*\)/g, '').trim());
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The Message-IDs an email replies to: every `<id>` of its In-Reply-To and References fields
 * (RFC 5322 section 3.6.4), for the `responses` filter. Read only for mailboxes with that filter.
 */
export function referencedMessageIds(raw: Buffer): string[] {
  const end = headerEnd(raw);
  if (end === -1) return [];
  // Unfold continuation lines, then keep the two fields.
  const unfolded = raw.toString('latin1', 0, end).replace(/\r?\n[ \t]+/g, ' ');
  const ids = new Set<string>();
  for (const line of unfolded.split(/\r?\n/)) {
    const field = /^(in-reply-to|references)[ \t]*:(.*)$/is.exec(line);
    if (!field) continue;
    for (const id of (field[2] as string).matchAll(/<[^<>\s]+>/g)) ids.add(id[0]);
  }
  return [...ids];
}
