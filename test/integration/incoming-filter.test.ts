import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labProfile } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { openLab, withOpenLab as withLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';

/**
 * `incoming.filter: responses` on real servers: an email goes out through the Pending Send queue
 * (smtp-server on loopback), the partner's real reply and an unrelated email land in the
 * mailbox in Dovecot, and only the reply reaches the change feed; the other is stored and
 * recorded no_correlation_match.
 */
let dovecot: Dovecot;
let smtp: SmtpLab;
let certDir: string;
let caFile: string;
let user: { name: string; password: string };

beforeAll(async () => {
  dovecot = await Dovecot.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-filter-smtp-'));
  const cert = makeCert(certDir, 'smtp');
  caFile = cert.cert;
  user = dovecot.addUser('replies');
  smtp = await SmtpLab.start({ cert, dovecot, users: { [user.name]: user.password } });
}, 60_000);

afterAll(async () => {
  await smtp?.stop();
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

describe('the incoming filter', () => {
  it('publishes the reply to an email mailsync sent, and records the unrelated one no_correlation_match', async () => {
    const profile = { ...labProfile(dovecot, 'lab'), outgoing: { host: 'localhost', port: smtp.port, security: 'starttls', caFile } };
    await withLab(openLab(dovecot, { mailboxes: [{ id: 'r', user: user.name, outgoing: true, incomingFilter: { filter: 'responses' } }], profiles: [profile] }), async (lab) => {
      const sent = await lab.queue('r', { to: ['partner@remote.example'], subject: 'Your order', text: 'Shipped today.' });
      expect((await lab.send('r')).outcome).toMatchObject({ result: 'success' });
      const outgoing = smtp.deliveries.find((d) => d.raw.toString().includes(sent.messageId))!;
      // The partner's client answers it: In-Reply-To and References name the message it received.
      const replyId = '<reply-1@remote.example>';
      const reply = Buffer.from([
        `Message-ID: ${replyId}`, 'From: Partner <partner@remote.example>', `To: ${user.name}@lab.example`, 'Subject: Re: Your order',
        `In-Reply-To: ${sent.messageId}`, `References: ${sent.messageId}`, `Date: ${new Date().toUTCString()}`, '', 'Thanks!', '',
        ...outgoing.raw.toString().split('\r\n').map((l) => `> ${l}`), '',
      ].join('\r\n'));
      dovecot.deliver(user.name, 'INBOX', reply);
      const unrelated = makeMessage(1, { subject: 'Newsletter', to: `${user.name}@lab.example` });
      dovecot.deliver(user.name, 'INBOX', unrelated);

      expect(await lab.cycle('r')).toMatchObject({ result: 'success', stored: 2 });
      const stored = (await lab.store.feed.changesAfter(0, 100)).filter((c) => c.kind === 'email_stored');
      expect(stored.map((c) => c.data.messageId)).toEqual([replyId]);
      const failures = await lab.store.mail.listItemFailures('r');
      expect(failures).toMatchObject([{ code: 'no_correlation_match' }]);
      expect(await lab.store.mail.countEmails('r')).toBe(2);
    });
  }, 60_000);
});
