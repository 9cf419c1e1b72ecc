/**
 * Whether a raw message has parts that mailparser will list as attachments, judged from its MIME
 * header lines without a parse (a full parse costs eight times ingest's budget: headers.ts). A
 * single-part message is an attachment when it is not text; a multipart one when a part declares
 * `Content-Disposition: attachment` or a type other than text, multipart or message. The records
 * API parses on read and corrects the stored flag when this guess was wrong.
 */
export function hasAttachmentParts(raw: Buffer): boolean {
  const text = raw.toString('latin1');
  const headerEnd = text.search(/\r?\n\r?\n/);
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd);
  const top = TYPE_LINE.exec(head)?.[1]?.toLowerCase() ?? 'text/plain';
  if (!top.startsWith('multipart/')) return !top.startsWith('text/') && !top.startsWith('message/');
  const body = text.slice(headerEnd === -1 ? text.length : headerEnd);
  if (ATTACHMENT_LINE.test(body)) return true;
  for (const m of body.matchAll(TYPE_LINES)) {
    const type = (m[1] as string).toLowerCase();
    if (!type.startsWith('text/') && !type.startsWith('multipart/') && !type.startsWith('message/')) return true;
  }
  return false;
}

const TYPE_LINE = /^content-type:[ \t]*([^;\s]+)/im;
const TYPE_LINES = /^content-type:[ \t]*([^;\s]+)/gim;
const ATTACHMENT_LINE = /^content-disposition:[ \t]*attachment/im;
