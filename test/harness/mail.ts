import { randomBytes } from 'node:crypto';

/** A plausible RFC 5322 message; `attachmentBytes` adds a base64 attachment of about that size. */
export function makeMessage(n: number, options: { attachmentBytes?: number; to?: string; subject?: string } = {}): Buffer {
  const subject = options.subject ?? `Test message ${n}`;
  const head = [
    `Message-ID: <msg-${n}-${randomBytes(4).toString('hex')}@lab.example>`,
    `From: "Sender ${n}" <sender${n % 17}@lab.example>`,
    `To: ${options.to ?? 'alice@lab.example'}`,
    `Subject: ${subject}`,
    `Date: ${new Date(Date.UTC(2026, 9, 1) + n * 60_000).toUTCString()}`,
    'MIME-Version: 1.0',
  ];
  const text = `Hello,\r\n\r\nthis is message ${n}.\r\n`;
  if (!options.attachmentBytes) {
    return Buffer.from(`${head.join('\r\n')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}`);
  }
  const b64 = randomBytes(Math.ceil((options.attachmentBytes * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `${head.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="b${n}"\r\n\r\n` +
    `--b${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
    `--b${n}\r\nContent-Type: application/octet-stream; name="f${n}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n` +
    `--b${n}--\r\n`,
  );
}
