import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, parseHeaderBlock } from './headers.js';

const msg = (s: string) => Buffer.from(s, 'latin1');

describe('parseHeaderBlock', () => {
  it('decodes encoded words, folded lines and address lists', () => {
    const r = parseHeaderBlock(msg(
      'Message-ID: <a.1@example.com>\r\nFrom: =?UTF-8?Q?J=C3=BCrgen?= <j@example.com>\r\n' +
      'To: b@example.com,\r\n c@example.com\r\nCc: "Doe, Jane" <jane@example.com>\r\n' +
      'Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?=\r\n  again\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000 (UTC)\r\n\r\nbody\r\n',
    ));
    expect(r).toEqual({
      ok: true,
      headers: {
        messageId: '<a.1@example.com>',
        from: '"Jürgen" <j@example.com>',
        to: 'b@example.com, c@example.com',
        cc: '"Doe, Jane" <jane@example.com>',
        subject: 'Hello world again',
        sentAt: Date.UTC(2026, 10, 3, 10),
      },
    });
  });

  it('reads raw UTF-8 headers and bare-LF messages', () => {
    const r = parseHeaderBlock(Buffer.from('Subject: Grüße\nFrom: a@example.com\n\nbody', 'utf8'));
    expect(r).toMatchObject({ ok: true, headers: { subject: 'Grüße', from: 'a@example.com', messageId: null, sentAt: null } });
  });

  it('keeps the first of a repeated field and ignores its continuation', () => {
    const r = parseHeaderBlock(msg('Subject: first\r\nSubject: second\r\n more\r\nFrom: a@x.example\r\n\r\n'));
    expect(r).toMatchObject({ ok: true, headers: { subject: 'first', from: 'a@x.example' } });
  });

  it('accepts a leading mbox separator and a message with no body', () => {
    expect(parseHeaderBlock(msg('From a@x Tue Nov  3 10:00:00 2026\r\nSubject: s\r\n'))).toMatchObject({ ok: true, headers: { subject: 's' } });
  });

  it.each([
    ['no header/body separator in a long message', msg(`Subject: x\r\n${'y'.repeat(MAX_HEADER_BYTES)}`), 'no blank line ends the header block'],
    ['a continuation before any field', msg(' folded\r\nSubject: x\r\n\r\n'), 'header block starts with a continuation line'],
    ['a line that is not a field', msg('Subject: x\r\nthis is not a header\r\n\r\n'), 'line 2 of the header block is not a header field'],
    ['only unrelated fields', msg('X-Foo: bar\r\n\r\nbody'), 'none of From, To, Subject or Message-ID is present'],
    ['an empty message', msg(''), 'no blank line ends the header block'],
    ['a blank first line', msg('\r\n\r\nbody'), 'the header block is empty'],
  ])('rejects %s', (_name, raw, reason) => {
    expect(parseHeaderBlock(raw)).toMatchObject({ ok: false, reason });
  });

  it('returns null for an unreadable date instead of failing the message', () => {
    expect(parseHeaderBlock(msg('Subject: s\r\nDate: sometime soon\r\n\r\n'))).toMatchObject({ ok: true, headers: { sentAt: null } });
  });
});
