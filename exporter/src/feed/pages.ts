import { randomBytes } from 'node:crypto';
import type { Response } from 'express';
import { DATA_JSON, type Change, type Store } from '../store/index.js';
import { PageOutput } from './page-output.js';
import { openRawEmail, readRawEmail } from './raw.js';

/** The media type a consumer asks for (Accept) to get raw bytes without base64 (docs/api.md). */
export const MULTIPART_MIXED = 'multipart/mixed';
/** The response header with the page's `next` cursor in the multipart form. */
export const NEXT_HEADER = 'Mailsync-Next';

/** The JSON page's changes are gathered into writes of about 256 KB: one write per change costs more than the JSON. */
const WRITE_CHUNK = 256 * 1024;

/**
 * A change as the API shows it, with `extra` members after `data` (`,"rawBytes":N`): its data's
 * JSON as the store read it when there is that, so it is not serialised again.
 */
function changeJson(c: Change, extra = ''): string {
  const data = c[DATA_JSON] ?? JSON.stringify(c.data);
  return `{"cursor":"${c.seq}","seq":${c.seq},"kind":${JSON.stringify(c.kind)},"mailboxId":${JSON.stringify(c.mailboxId)},"at":${c.at},"data":${data}${extra}}`;
}

const wantsRaw = (c: Change, rawFrom: Store | undefined): rawFrom is Store => rawFrom !== undefined && c.kind === 'email_stored' && c.refId !== null;

/**
 * The page as JSON, written change by change: with `include=raw` a page of large emails is never
 * held in memory whole, and a slow reader holds us back (drain) instead of filling a buffer.
 */
export async function writeJsonPage(res: Response, changes: Change[], next: number, rawFrom: Store | undefined): Promise<void> {
  res.status(200).type('application/json');
  let pending = '{"changes":[';
  for (const [i, c] of changes.entries()) {
    let raw = '';
    if (wantsRaw(c, rawFrom)) {
      // Base64 needs no JSON escaping: appended as is, it spares JSON.stringify a scan of the bytes.
      const bytes = await readRawEmail(rawFrom, c.refId!);
      raw = bytes ? `,"raw":"${bytes.toString('base64')}"` : ',"raw":null';
    }
    pending += (i > 0 ? ',' : '') + changeJson(c, raw);
    if (pending.length >= WRITE_CHUNK) {
      await write(res, pending);
      pending = '';
    }
  }
  res.end(`${pending}],"next":"${next}"}`);
}

/**
 * The page as `multipart/mixed`: one `application/json` part per change (the JSON form's item,
 * with `rawBytes` instead of `raw`), and after each email's part its bytes as a `message/rfc822`
 * part, copied from the store as they are: no base64, no JSON escaping, nothing for the consumer
 * to decode (docs/performance.md measured the JSON form's passes over each email's bytes). Every
 * part has a Content-Length, so a consumer can read it without scanning for the boundary; the
 * boundary is random per response, so no stored email can contain it but by chance (2^-144).
 */
export async function writeMultipartPage(res: Response, changes: Change[], next: number, rawFrom: Store | undefined): Promise<void> {
  const boundary = `mailsync-${randomBytes(18).toString('base64url')}`;
  res.status(200);
  res.setHeader('Content-Type', `${MULTIPART_MIXED}; boundary=${boundary}`);
  res.setHeader(NEXT_HEADER, String(next));
  const out = new PageOutput(res);
  const jsonPart = `--${boundary}\r\nContent-Type: application/json\r\nContent-Length: `;
  const rawPart = `--${boundary}\r\nContent-Type: message/rfc822\r\nContent-Length: `;
  for (const c of changes) {
    const withRaw = wantsRaw(c, rawFrom);
    const raw = withRaw ? await openRawEmail(rawFrom, c) : undefined;
    const rawBytes = raw === undefined ? null : Buffer.isBuffer(raw) ? raw.length : raw.size;
    const json = changeJson(c, withRaw ? `,"rawBytes":${rawBytes}` : '');
    // One string for the change's part and the raw part's header, encoded into the output's buffer: the bytes follow as they are.
    let head = `${jsonPart}${Buffer.byteLength(json)}\r\n\r\n${json}\r\n`;
    if (raw !== undefined) head += `${rawPart}${rawBytes}\r\n\r\n`;
    out.text(head);
    if (raw !== undefined) {
      if (Buffer.isBuffer(raw)) out.bytes(raw);
      else await out.stream(raw.stream, raw.size);
      out.text('\r\n');
    }
    if (out.held) await out.ready();
  }
  out.text(`--${boundary}--\r\n`);
  out.end();
}

/**
 * Up to this much may wait in the response's buffer before a write waits for it to drain: a page
 * goes out in a few large writes instead of a pause (an event-loop turn, and on a busy machine a
 * lost time slice) every 16 KB, and a slow reader still holds us back at a bounded cost.
 */
const MAX_BUFFERED = 2 * 1024 * 1024;

function write(res: Response, chunk: string | Buffer): Promise<void> {
  if (res.write(chunk) || res.writableLength < MAX_BUFFERED) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    const onDrain = () => { cleanup(); resolve(); };
    const onClose = () => { cleanup(); reject(new Error('the client went away')); };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
