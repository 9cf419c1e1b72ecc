import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeaderBlock } from './headers.js';

/** Header-ish bytes: field lines, folding, encoded words, 8-bit bytes, NULs, bare CR, odd line ends. */
const pieces = fc.oneof(
  fc.constantFrom('From: ', 'To: ', 'Cc: ', 'Subject: ', 'Message-ID: ', 'Date: ', 'X-Odd : ', ' ', '\t', ':', '<', '>', '@', ',', '"'),
  fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n', '\n\n', '\0', '=?utf-8?B?', '=?iso-8859-1?Q?', '?=', '=?x?', '=?utf-8?b?!!!?='),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
);
const messages = fc.array(pieces, { maxLength: 60 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

describe('the header reader, on any bytes', () => {
  it('never throws: it reads the headers or says why not, with every field a string or null', () => {
    fc.assert(fc.property(messages, (raw) => {
      const parsed = parseHeaderBlock(raw);
      if (!parsed.ok) expect(parsed.reason).toMatch(/\S/);
      for (const key of ['messageId', 'from', 'to', 'cc', 'subject'] as const) {
        const value = parsed.headers[key];
        expect(value === null || typeof value === 'string').toBe(true);
      }
      const sentAt = parsed.headers.sentAt;
      expect(sentAt === null || Number.isFinite(sentAt)).toBe(true);
    }), { numRuns: 2_000 });
  });
});
