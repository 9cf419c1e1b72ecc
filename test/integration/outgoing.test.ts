import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labProfile, type LabOptions } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { manualClock, openLab, withOpenLab as withLab, type Lab } from '../harness/lab.js';
import { SmtpLab, type SmtpOptions } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';

/**
 * Outgoing email on real servers: nodemailer's smtp-server on loopback (STARTTLS, AUTH, replies
 * scripted with hosted providers' exact texts) and Dovecot for the Sent folder and the round trip.
 */
let dovecot: Dovecot;
let certDir: string;
const servers: SmtpLab[] = [];

beforeAll(async () => {
  dovecot = await Dovecot.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-smtp-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

const unique = (p: string) => `${p}${Math.random().toString(36).slice(2, 7)}`;

async function smtp(options: Partial<SmtpOptions> & { users: Record<string, string> }): Promise<{ server: SmtpLab; caFile: string }> {
  const cert = makeCert(certDir, unique('smtp'));
  const server = await SmtpLab.start({ cert, dovecot, ...options });
  servers.push(server);
  return { server, caFile: cert.cert };
}

/** A lab whose `lab` profile also has an outgoing server; the mailbox logs in to both with its own password. */
function outLab(server: SmtpLab, caFile: string, user: string, outgoing: Record<string, unknown> = {}, extra: Partial<LabOptions> = {}, clock?: ReturnType<typeof manualClock>): Promise<Lab> {
  const profile = {
    ...labProfile(dovecot, 'lab'),
    outgoing: { host: 'localhost', port: server.port, security: 'starttls', caFile, ...outgoing },
  };
  return openLab(dovecot, { mailboxes: [{ id: 'm', user, outgoing: true }], profiles: [profile], ...extra }, clock);
}

describe('sending the Pending Send queue', () => {
  it('sends over STARTTLS with the mailbox\'s login, once, with the Message-ID given at queue time; Bcc only in the envelope', async () => {
    const user = dovecot.addUser(unique('send'));
    const { server, caFile } = await smtp({ users: { [user.name]: user.password } });
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      const queued = await lab.queue('m', { to: ['to@remote.example'], cc: ['cc@remote.example'], bcc: ['hidden@remote.example'], subject: 'Quarterly report', text: 'See attached.', attachments: [{ filename: 'r.txt', contentType: 'text/plain', content: Buffer.from('numbers') }] });
      expect(queued).toMatchObject({ state: 'pending_send', recipients: ['to@remote.example', 'cc@remote.example', 'hidden@remote.example'] });
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1, itemsFailed: 0 });
      expect(server.count(queued.messageId)).toBe(1);
      const d = server.deliveries[0]!;
      expect(d).toMatchObject({ from: `${user.name}@lab.example`, to: ['to@remote.example', 'cc@remote.example', 'hidden@remote.example'], user: user.name });
      expect(d.raw.toString()).toContain('Subject: Quarterly report');
      expect(d.raw.toString()).toContain('filename=r.txt');
      expect(d.raw.toString()).not.toMatch(/^Bcc:/im);
      expect(await lab.email(queued.id)).toMatchObject({ state: 'sent', attempts: 1, smtpResponse: expect.stringContaining('250') });
      expect((await lab.email(queued.id)).history.map((h) => h.state)).toEqual(['pending_send', 'sending', 'sent']);
      // Nothing left: the next cycle sends nothing again.
      await lab.send('m');
      expect(server.count(queued.messageId)).toBe(1);
    });
  });

  it('appends the sent email to the Sent folder when the profile asks for it', async () => {
    const user = dovecot.addUser(unique('append'));
    const { server, caFile } = await smtp({ users: { [user.name]: user.password } });
    await withLab(outLab(server, caFile, user.name, { sentCopy: 'append' }), async (lab) => {
      const queued = await lab.queue('m', { to: ['x@remote.example'] });
      await lab.send('m');
      expect(dovecot.countMessageId(user.name, 'Sent', queued.messageId)).toBe(1);
    });
  });

  it('fails only the email whose recipients are all refused, and keeps sending the others', async () => {
    const user = dovecot.addUser(unique('rcpt'));
    const { server, caFile } = await smtp({
      users: { [user.name]: user.password },
      rcptTo: { 'nobody@remote.example': { code: 550, message: '5.1.1 <nobody@remote.example>: Recipient address rejected: User unknown' } },
    });
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      const bad = await lab.queue('m', { to: ['nobody@remote.example'] });
      const partial = await lab.queue('m', { to: ['nobody@remote.example', 'someone@remote.example'] });
      const good = await lab.queue('m', { to: ['someone@remote.example'] });
      const { outcome } = await lab.send('m');
      expect(outcome).toMatchObject({ result: 'success', itemsProcessed: 3, itemsFailed: 1, failedByCode: { send_rejected: 1 } });
      expect(await lab.email(bad.id)).toMatchObject({ state: 'failed', lastErrorCode: 'send_rejected', lastErrorMessage: expect.stringContaining('User unknown') });
      expect(await lab.email(partial.id)).toMatchObject({ state: 'sent' });
      expect((await lab.email(partial.id)).history.at(-1)?.detail).toContain('refused: nobody@remote.example');
      expect((await lab.email(good.id)).state).toBe('sent');
      expect(await lab.state('m')).toBeUndefined();
      expect(await lab.store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ disabled: false, status: 'success' });
    });
  });

  it.each([
    ['a wrong password', { users: { someone: 'else' } }, 'credentials_rejected', 'permanent', true],
    ['sender not permitted (Microsoft 365 SendAsDenied)', { mailFrom: { '*': { code: 550, message: '5.7.60 SMTP; Client does not have permissions to send as this sender' } } }, 'insufficient_permissions', 'permanent', true],
    ['a busy server (421)', { greeting: { code: 421, message: '4.7.0 Temporary System Problem. Try again later' } }, 'server_unavailable', 'transient', false],
    ['STARTTLS not offered', { noStartTls: true }, 'secure_connection_failed', 'permanent', true],
  ] as const)('%s: the mailbox fails and the email stays queued', async (_name, script, code, cls, disabled) => {
    const user = dovecot.addUser(unique('mbx'));
    const from = `${user.name}@lab.example`;
    const options: Partial<SmtpOptions> & { users: Record<string, string> } = {
      users: { [user.name]: user.password }, ...script,
      ...('mailFrom' in script ? { mailFrom: { [from]: script.mailFrom['*'] } } : {}),
    };
    const { server, caFile } = await smtp(options);
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      const queued = await lab.queue('m', { to: ['x@remote.example'] });
      const { outcome } = await lab.send('m');
      expect(outcome).toMatchObject({ result: 'failure', code, class: cls, disabled });
      expect(await lab.email(queued.id)).toMatchObject({ state: 'pending_send', lastErrorCode: code });
      expect(await lab.store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ disabled, lastErrorCode: code });
      expect(server.deliveries).toHaveLength(0);
    });
  });

  it('postpones, not fails, an email the provider\'s quota refuses (554 5.2.0 SubmissionQuotaExceeded)', async () => {
    const user = dovecot.addUser(unique('quota'));
    const { server, caFile } = await smtp({
      users: { [user.name]: user.password },
      data: { [`${user.name}@lab.example`]: { code: 554, message: '5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception' } },
    });
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      const queued = await lab.queue('m', { to: ['x@remote.example'] });
      const before = Date.now();
      const { outcome, nextDueAt } = await lab.send('m');
      expect(outcome).toMatchObject({ result: 'success', itemsFailed: 0 });
      expect(await lab.email(queued.id)).toMatchObject({ state: 'postponed', lastErrorCode: 'sending_limit_exceeded' });
      expect((await lab.email(queued.id)).nextAttemptAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(nextDueAt).toBe((await lab.email(queued.id)).nextAttemptAt);
      expect(await lab.store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ disabled: false, consecutiveFailures: 0 });
    });
  });

  it('postpones rather than exceed the profile\'s messages per minute (walked with a manual clock)', async () => {
    const user = dovecot.addUser(unique('limit'));
    const { server, caFile } = await smtp({ users: { [user.name]: user.password } });
    const clock = manualClock(Date.now());
    await withLab(outLab(server, caFile, user.name, { limits: { messagesPerMinute: 2 } }, {}, clock), async (lab) => {
      const emails = [];
      for (let i = 0; i < 3; i++) emails.push(await lab.queue('m', { to: [`r${i}@remote.example`] }));
      const t0 = clock.now();
      const first = await lab.send('m');
      expect(server.deliveries).toHaveLength(2);
      expect(await lab.email(emails[2]!.id)).toMatchObject({ state: 'postponed', nextAttemptAt: t0 + 60_000 });
      expect(first.nextDueAt).toBe(t0 + 60_000);
      clock.set(t0 + 59_000);
      await lab.send('m');
      expect(server.deliveries).toHaveLength(2);
      clock.set(t0 + 60_000);
      await lab.send('m');
      expect(server.deliveries).toHaveLength(3);
      expect((await lab.email(emails[2]!.id)).state).toBe('sent');
    });
  });
});

describe('Test & Enable for outgoing', () => {
  it('connects, authenticates, sends the mailbox a message to itself and sees it arrive; then enables outgoing', async () => {
    const user = dovecot.addUser(unique('te'));
    const { server, caFile } = await smtp({ users: { [user.name]: user.password } });
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      await lab.store.lifecycle.disable('m', 'outgoing', { code: 'credentials_rejected', reason: 'old', by: 'system', at: 1 });
      const result = await lab.testEnable('m', false, true);
      const outgoing = result.checks.find((c) => c.direction === 'outgoing');
      expect(outgoing).toMatchObject({ ok: true, steps: expect.arrayContaining(['authenticated', 'sent a test message to the mailbox itself']) });
      expect(outgoing?.ok && outgoing.latencyMs).toBeGreaterThanOrEqual(0);
      expect(server.deliveries[0]?.to).toEqual([`${user.name}@lab.example`]);
      expect(await lab.store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ disabled: false });
    });
  });

  it('records the SMTP failure and keeps outgoing disabled', async () => {
    const user = dovecot.addUser(unique('tebad'));
    const { server, caFile } = await smtp({ users: { [user.name]: 'not-this' } });
    await withLab(outLab(server, caFile, user.name), async (lab) => {
      const result = await lab.testEnable('m');
      expect(result.checks.find((c) => c.direction === 'outgoing')).toMatchObject({ ok: false, code: 'credentials_rejected', scope: 'mailbox' });
      expect(result.checks.find((c) => c.direction === 'incoming')).toMatchObject({ ok: true });
      expect(await lab.store.runs.getDirectionState('m', 'outgoing')).toMatchObject({ disabled: true, disabledCode: 'credentials_rejected' });
    });
  });
});
