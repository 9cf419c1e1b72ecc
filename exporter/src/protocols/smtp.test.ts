import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpLab } from '../../../test/harness/smtp.js';
import { makeCert } from '../../../test/harness/tls.js';
import { Secret } from '../config/index.js';
import { loadSmtp, sendRaw, SmtpTransports } from './smtp.js';

let dir: string;
let smtp: SmtpLab;
let caFile: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mailsync-smtp-raw-'));
  const cert = makeCert(dir, 'smtp');
  caFile = cert.cert;
  smtp = await SmtpLab.start({ cert, users: { sender: 'sender-password' } });
  // As an outgoing cycle does before it asks for a pool.
  await loadSmtp();
});
afterAll(async () => {
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const policy = { allowNonTlsServers: false, allowCredentialsOverInsecureChannel: false };
const endpoint = () => ({ host: 'localhost', port: smtp.port, security: 'starttls' as const, caFile, maxConnections: 2, timeouts: { connectSeconds: 10, greetingSeconds: 10, socketSeconds: 10 } });

describe('sendRaw: stored bytes straight to the pool', () => {
  it('delivers the bytes as stored, to the envelope given, with IDN domains in ASCII as nodemailer has them, and dot-stuffs them', async () => {
    const transports = new SmtpTransports();
    try {
      const transport = transports.get(endpoint(), { user: 'sender', password: new Secret('sender-password', 'inline') }, policy);
      // No newline at the end, and a line that starts with a dot: the wire form must still be right.
      const raw = Buffer.from('Message-ID: <raw-1@example.org>\r\nSubject: t\r\n\r\nline one\r\n.line with a dot\r\nlast line');
      const result = await sendRaw(transport, 'sender@example.org', ['a@bücher.example', 'jörg@bücher.example', 'b@example.org'], raw, '<raw-1@example.org>');
      // What went in RCPT TO: an ASCII local part gets its domain in ASCII; a UTF-8 one (SMTPUTF8
      // anyway) keeps it. smtp-server decodes the domain back for its own log.
      expect(result.accepted).toEqual(['a@xn--bcher-kva.example', 'jörg@bücher.example', 'b@example.org']);
      expect(result.response).toMatch(/^250/);
      const delivery = smtp.deliveries.at(-1)!;
      expect(delivery.from).toBe('sender@example.org');
      expect(delivery.to).toEqual(['a@bücher.example', 'jörg@bücher.example', 'b@example.org']);
      expect(delivery.raw.toString()).toBe(`${raw.toString()}\r\n`);
    } finally {
      transports.closeAll();
    }
  });

  it('fails with the server\'s reply for a refused recipient', async () => {
    const transports = new SmtpTransports();
    try {
      const transport = transports.get(endpoint(), { user: 'sender', password: new Secret('wrong', 'inline') }, policy);
      await expect(sendRaw(transport, 'sender@example.org', ['b@example.org'], Buffer.from('Subject: t\r\n\r\nx\r\n'))).rejects.toMatchObject({ responseCode: 535 });
    } finally {
      transports.closeAll();
    }
  });
});
