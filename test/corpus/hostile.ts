/**
 * Malformed and odd messages of our own making, each with what mailsync's documented rules say
 * must happen to it (docs/decisions.md, "Only the header block is parsed at ingest"):
 * - `stored`: kept, headers read;
 * - `parse_failed`: kept raw, with an `item_parse_failed` record (no blank line ends a header
 *   block within 256 KB, a line of the block is not a field, a continuation first, or none of
 *   From, To, Subject or Message-ID);
 * - `too_large`: over `sync.maxMessageBytes`, not downloaded, an `item_too_large` record.
 * Every message carries a unique token (`corpus-NN`) so it can be found in the store whatever the
 * server did to its line ends.
 */
export type Expected = 'stored' | 'parse_failed' | 'too_large';

export interface CorpusMessage {
  name: string;
  token: string;
  bytes: Buffer;
  expected: Expected;
}

/** The limit the test configures: the too-large cases sit around it. */
export const CORPUS_MAX_BYTES = 2 * 1024 * 1024;

type Make = (token: string) => string | Buffer;
const CASES: [string, Expected, Make][] = [];
const add = (name: string, expected: Expected, make: Make) => CASES.push([name, expected, make]);
const crlf = (...lines: string[]) => lines.join('\r\n');
const basic = (t: string, body = 'body') => crlf('From: a@example.com', 'To: b@example.com', `Subject: ${t}`, '', body, '');

// Well formed, or odd in ways the rules accept.
add('plain CRLF', 'stored', (t) => basic(t));
add('LF line ends only', 'stored', (t) => `From: a@example.com\nSubject: ${t}\n\nbody\n`);
add('mixed line ends', 'stored', (t) => `From: a@example.com\r\nTo: b@example.com\nSubject: ${t}\r\n\nbody\r\nmore\n`);
add('bare CR inside a header line', 'stored', (t) => `Subject: ${t}\rFrom: x@example.com\r\n\r\nbody\r\n`);
add('headers only, no body', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, ''));
add('RFC 2047 base64 subject', 'stored', (t) => basic(t).replace(`Subject: ${t}`, `Subject: =?utf-8?B?${Buffer.from('Grüße ').toString('base64')}?= ${t}`));
add('RFC 2047 Q subject', 'stored', (t) => basic(t).replace(`Subject: ${t}`, `Subject: =?iso-8859-1?Q?caf=E9?= ${t}`));
add('broken encoded word', 'stored', (t) => basic(t).replace(`Subject: ${t}`, `Subject: =?utf-8?B?!!!not base64?= =?x-unknown?Q?abc?= ${t}`));
add('encoded word never closed', 'stored', (t) => basic(t).replace(`Subject: ${t}`, `Subject: =?utf-8?Q?open ${t}`));
add('invalid UTF-8 in the subject', 'stored', (t) => Buffer.concat([Buffer.from('From: a@example.com\r\nSubject: '), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(` ${t}\r\n\r\nbody\r\n`)]));
add('latin1 8-bit display name', 'stored', (t) => Buffer.concat([Buffer.from('From: '), Buffer.from([0x4a, 0xf6, 0x72, 0x67]), Buffer.from(` <j@example.com>\r\nSubject: ${t}\r\n\r\nbody\r\n`)]));
add('folded subject of 100 KB', 'stored', (t) => basic(t).replace(`Subject: ${t}`, `Subject: ${t}${'\r\n word'.repeat(20_000)}`));
add('10,000 header fields', 'stored', (t) => crlf(...Array.from({ length: 10_000 }, (_, i) => `X-Field-${i}: v`), `Subject: ${t}`, '', 'body', ''));
add('first of two Subject fields wins', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Subject: second', '', 'b', ''));
add('mbox From line in front', 'stored', (t) => `From someone@example.com Mon Jan  1 00:00:00 2026\r\n${basic(t)}`);
add('tab continuation', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, '\tcontinued', '', 'b', ''));
add('unparseable Date', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Date: the day after tomorrow', '', 'b', ''));
add('Message-ID without brackets', 'stored', (t) => crlf(`Message-ID: ${t}@example.com`, '', 'b', ''));
add('empty Subject', 'stored', (t) => crlf('From: a@example.com', 'Subject:', `X-Token: ${t}`, '', 'b', ''));
add('odd but legal field names', 'stored', (t) => crlf('X-!#$%&*+: v', 'From: a@example.com', `Subject: ${t}`, '', 'b', ''));
add('1,000 recipients', 'stored', (t) => basic(t).replace('To: b@example.com', `To: ${Array.from({ length: 1_000 }, (_, i) => `r${i}@example.com`).join(', ')}`));
add('group syntax and comments in addresses', 'stored', (t) => basic(t).replace('To: b@example.com', 'To: undisclosed-recipients:; (nobody) "Q, R" <q@example.com>'));
add('address without a domain', 'stored', (t) => basic(t).replace('From: a@example.com', 'From: just-a-name'));
add('multipart without a boundary parameter', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Type: multipart/mixed', '', '--x', 'part', '--x--', ''));
add('multipart boundary never closed', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'part', ''));
add('multipart with a 10 KB boundary', 'stored', (t) => {
  const b = 'B'.repeat(10_000);
  return crlf('From: a@example.com', `Subject: ${t}`, `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, '', 'x', `--${b}--`, '');
});
add('500 levels of nested multipart', 'stored', (t) => {
  let body = 'innermost';
  for (let i = 500; i > 0; i--) body = crlf(`Content-Type: multipart/mixed; boundary=n${i}`, '', `--n${i}`, body, `--n${i}--`);
  return crlf('From: a@example.com', `Subject: ${t}`, body, '');
});
add('base64 body that is not base64', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Transfer-Encoding: base64', '', '!!!*** not base64 ***!!!', ''));
add('quoted-printable with broken escapes', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Transfer-Encoding: quoted-printable', '', '=ZZ =4 =\r', ''));
add('unknown charset', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Type: text/plain; charset=x-no-such-charset', '', 'b', ''));
add('NUL bytes in the body', 'stored', (t) => Buffer.concat([Buffer.from(basic(t, 'before')), Buffer.alloc(64), Buffer.from('after\r\n')]));
add('raw binary body', 'stored', (t) => Buffer.concat([Buffer.from(crlf('From: a@example.com', `Subject: ${t}`, '', '')), Buffer.from(Array.from({ length: 4_096 }, (_, i) => (i * 37) & 0xff))]));
add('one 500 KB body line', 'stored', (t) => basic(t, 'x'.repeat(500_000)));
add('8-bit header with a CR in the name position', 'stored', (t) => `Subject: ${t}\r\nFrom: a@example.com\r\n\r\n\rbody\r\n`);
add('HTML only', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Type: text/html', '', '<script>alert(1)</script><b>hi', ''));
add('header injection attempt in the subject', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t} %0d%0aBcc: x@example.com`, '', 'b', ''));
add('very long Message-ID', 'stored', (t) => crlf(`Message-ID: <${t}${'m'.repeat(50_000)}@example.com>`, '', 'b', ''));
add('attachment with a path in its name', 'stored', (t) => crlf('From: a@example.com', `Subject: ${t}`, 'Content-Type: multipart/mixed; boundary=z', '', '--z',
  'Content-Disposition: attachment; filename="../../etc/passwd"', '', 'x', '--z--', ''));

// Broken as the rules define it: kept raw, with an item_parse_failed record.
add('no blank line and no final line end', 'parse_failed', (t) => `From: a@example.com\r\nSubject: ${t}\r\nbody without a separator`);
add('text with no header at all', 'parse_failed', (t) => `just some text ${t}\r\n\r\nand more\r\n`);
add('starts with a continuation line', 'parse_failed', (t) => crlf(' folded first', `Subject: ${t}`, '', 'b', ''));
add('a line of the block is not a field', 'parse_failed', (t) => crlf('From: a@example.com', 'this is not a header', `Subject: ${t}`, '', 'b', ''));
add('NUL in a field name', 'parse_failed', (t) => `Fr\0om: a@example.com\r\nSubject: ${t}\r\n\r\nb\r\n`);
add('space before the colon of the first line', 'parse_failed', (t) => `: no name\r\nSubject: ${t}\r\n\r\nb\r\n`);
add('none of From, To, Subject or Message-ID', 'parse_failed', (t) => crlf('X-Only: yes', `X-Token: ${t}`, '', 'b', ''));
add('a 1 MB header line', 'parse_failed', (t) => `Subject: ${t} ${'h'.repeat(1_000_000)}\r\n\r\nbody\r\n`);
add('header block over 256 KB', 'parse_failed', (t) => crlf(`Subject: ${t}`, ...Array.from({ length: 30_000 }, (_, i) => `X-Filler-${i}: value`), '', 'b', ''));
add('a body line before any header', 'parse_failed', (t) => `<html>${t}</html>\r\nSubject: late\r\n\r\n`);
add('8-bit bytes in a field name', 'parse_failed', (t) => Buffer.concat([Buffer.from('Sub'), Buffer.from([0xe9]), Buffer.from(`ject: ${t}\r\n\r\nb\r\n`)]));
add('only binary bytes', 'parse_failed', (t) => Buffer.concat([Buffer.from(Array.from({ length: 2_048 }, (_, i) => ((i * 91) & 0xff) || 1).filter((b) => b !== 0x0a && b !== 0x0d)), Buffer.from(t)]));
add('a colon-less word then a blank line', 'parse_failed', (t) => `${t}\r\n\r\nbody\r\n`);

// Around the size limit.
add('exactly at the size limit', 'stored', (t) => padTo(basic(t, ''), CORPUS_MAX_BYTES));
add('one byte over the size limit', 'too_large', (t) => padTo(basic(t, ''), CORPUS_MAX_BYTES + 1));
add('well over the size limit', 'too_large', (t) => padTo(basic(t, ''), CORPUS_MAX_BYTES * 2));

// Many small odd ones, to pass 60 with variety in the details the reader branches on.
for (const [i, value] of ['', ' ', '<>', '<@>', 'a@', '@b', '"unterminated <x@example.com>', '=?utf-8?q??=', '(only a comment)', '\u00ff'.repeat(3)].entries()) {
  add(`From field "${value.slice(0, 20)}" (${i})`, 'stored', (t) => crlf(`From: ${value}`, `Subject: ${t}`, '', 'b', ''));
}

function padTo(message: string, size: number): Buffer {
  const head = Buffer.from(message);
  return Buffer.concat([head, Buffer.alloc(size - head.length, 0x61)]);
}

/** The corpus, with the first well-formed message repeated at the end (identical bytes twice: one email, two locations). */
export function hostileCorpus(): CorpusMessage[] {
  const messages = CASES.map(([name, expected, make], i) => {
    const token = `corpus-${String(i).padStart(2, '0')}`;
    const made = make(token);
    return { name, token, expected, bytes: typeof made === 'string' ? Buffer.from(made, 'latin1') : made };
  });
  const first = messages[0] as CorpusMessage;
  return [...messages, { ...first, name: `${first.name} (the same bytes again)` }];
}
