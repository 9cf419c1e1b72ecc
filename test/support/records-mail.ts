/**
 * A message whose attachments carry the names an attacker would choose: directory parts with
 * either separator, control characters, quotes and semicolons, a CR LF header injection (raw and
 * RFC 2231-encoded), bidi overrides; plus a text/html attachment that must never render inline.
 * `expected` is the file name each download must be offered under, by attachment index.
 */
export function hostileAttachmentMessage(): { raw: Buffer; expected: string[] } {
  const part = (headers: string, body: string) => `--XB\r\n${headers}\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(body).toString('base64')}\r\n`;
  const raw = Buffer.from([
    'Message-ID: <hostile-attachments@lab.example>',
    'From: Mallory <mallory@evil.example>',
    'To: alice@lab.example',
    'Subject: Invoice attached',
    'Date: Tue, 01 Dec 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XB"',
    '',
    '--XB',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See the attachments.',
    part('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../../etc/passwd"', 'root:x:0:0'),
    part('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8\'\'..%5C..%5Cevil%0D%0ASet-Cookie%3A%20a%3Db.txt', 'cookie'),
    part('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="quote\\"d; name=x.pdf"', '%PDF-1.4'),
    part('Content-Type: text/plain\r\nContent-Disposition: attachment; filename*=UTF-8\'\'bell%07%1B%5B31m%E2%80%AEtxt.exe', 'bell'),
    part('Content-Type: text/html\r\nContent-Disposition: attachment; filename="page.html"', '<script>alert(document.cookie)</script>'),
    part('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="r\u00e9sum\u00e9 \u65e5\u672c.txt"', 'unicode'),
    '--XB--',
    '',
  ].join('\r\n'), 'utf8');
  return { raw, expected: ['passwd', 'evilSet-Cookie: a=b.txt', 'quote"d; name=x.pdf', 'bell[31mtxt.exe', 'page.html', 'r\u00e9sum\u00e9 \u65e5\u672c.txt'] };
}

/** The file name a Content-Disposition header offers: the RFC 6266 `filename*` when present, else `filename`. */
export function offeredFilename(header: string): string | undefined {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (star) return decodeURIComponent(star);
  const quoted = /filename="((?:[^"\\]|\\.)*)"/.exec(header)?.[1];
  if (quoted !== undefined) return quoted.replace(/\\(.)/g, '$1');
  return /filename=([^;]+)/.exec(header)?.[1];
}
