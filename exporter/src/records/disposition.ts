/**
 * A file name from an email, made safe to offer as a download: no directory part (either
 * separator), no control characters (CR and LF would split the header; the others confuse
 * terminals and file systems), no leading dots, at most 200 characters. Express's
 * `res.attachment()` (the content-disposition package) then quotes it and adds the RFC 6266
 * `filename*` UTF-8 form when it is not plain ASCII.
 */
export function safeFilename(name: string | null, fallback: string): string {
  const base = (name ?? '').split(/[/\\]/).at(-1) ?? '';
  const cleaned = Array.from(base).filter((c) => !isHidden(c.codePointAt(0) ?? 0)).join('').replace(/^[.\s]+/, '').trim();
  const short = Array.from(cleaned).slice(0, 200).join('');
  return short === '' ? fallback : short;
}

/** C0, DEL, C1, the line/paragraph separators, and the bidi controls that can disguise an extension. */
function isHidden(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * The attachment's declared type when it is a well-formed media type, else octet-stream. The
 * download always goes out with `Content-Disposition: attachment` and nosniff, so even a
 * text/html part is saved, never rendered from mailsync's origin.
 */
export function safeContentType(type: string | null | undefined): string {
  const t = (type ?? '').trim().toLowerCase();
  return MEDIA_TYPE.test(t) ? t : 'application/octet-stream';
}
