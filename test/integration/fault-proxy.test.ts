import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { openStore } from '../../exporter/src/store/index.js';
import { callApi, runCli, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { FaultProxy, type Fault } from '../harness/fault-proxy.js';
import { manualClock, openLab, withOpenLab as withLab, type Lab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';

/**
 * The network faults of a real path, put between mailsync and each real server by a TCP proxy
 * (test/harness/fault-proxy.ts): for each fault and protocol, the taxonomy code and class, no hang
 * past the profile's timeouts (short ones here: a hang shows as the test's timeout), the mailbox
 * recovering on the next cycle once the path heals, and nothing stored or delivered twice.
 */
let dovecot: Dovecot;
let certDir: string;
const proxies: FaultProxy[] = [];
const smtpServers: SmtpLab[] = [];

/**
 * Short enough that every faulted cycle ends well within the test timeout. The greeting timeout is
 * the shorter, as with the defaults (15 s against 300 s): a server that never greets is a connect
 * failure, not a session that stopped answering.
 */
const TIMEOUTS = { connectSeconds: 2, greetingSeconds: 2, socketSeconds: 3 };
const MESSAGES = 40;
/** Past the greeting, the TLS handshake and the login: the proxy acts in the middle of the FETCHes. */
const MID_FETCH = 300_000;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-fault-proxy-'));
});
afterAll(async () => {
  await Promise.all([...proxies.map((p) => p.stop()), ...smtpServers.map((s) => s.stop())]);
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 8)}`;

async function proxyTo(port: number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start(port);
  proxies.push(proxy);
  return proxy;
}

function failure(outcome: CycleOutcome | undefined) {
  if (!outcome || outcome.result !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** What the store holds for the mailbox, against what the server has: each message once. */
async function expectEachMessageOnce(lab: Lab, total: number): Promise<void> {
  expect(await lab.store.mail.countEmails('m')).toBe(total);
  const uids = (await lab.store.mail.emailLocations('m')).map((l) => l.uid).sort((a, b) => a - b);
  expect(uids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

describe('IMAP (Dovecot over STARTTLS) through the fault proxy', () => {
  /** A mailbox of MESSAGES messages of 20 kB behind a fresh proxy, fetched in batches of 5. */
  async function imapLab(proxy: FaultProxy, socketSeconds = TIMEOUTS.socketSeconds) {
    const user = dovecot.addUser(unique('fp'));
    dovecot.seedMaildir(user.name, Array.from({ length: MESSAGES }, (_, i) => makeMessage(i, { attachmentBytes: 20_000 })));
    const profile = labProfile(dovecot, 'fp', {
      incoming: { host: 'localhost', port: proxy.port, security: 'starttls', caFile: dovecot.cert.cert },
      timeouts: { ...TIMEOUTS, socketSeconds },
    });
    return { user, lab: openLab(dovecot, { mailboxes: [{ id: 'm', user: user.name, profile: 'fp' }], profiles: [profile], sync: { batchSize: 5 } }) };
  }

  const cases: { fault: string; set: Fault; code: string; cls: 'transient' }[] = [
    { fault: 'reset mid-response', set: { kind: 'reset', afterBytes: MID_FETCH }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'silent mid-response (half-open)', set: { kind: 'silent', afterBytes: MID_FETCH }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'silent from the start (half-open)', set: { kind: 'silent' }, code: 'connect_failed', cls: 'transient' },
    { fault: 'drip from the greeting', set: { kind: 'drip' }, code: 'connect_failed', cls: 'transient' },
    { fault: 'drip mid-response', set: { kind: 'drip', afterBytes: MID_FETCH }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'stall after the greeting', set: { kind: 'stallAfterGreeting' }, code: 'server_unavailable', cls: 'transient' },
  ];

  it.each(cases)('$fault: $code ($cls); the next cycle after the fault clears stores the rest, each message once', async ({ set, code, cls }) => {
    const proxy = await proxyTo(dovecot.imapPort);
    const { lab: opening } = await imapLab(proxy);
    await withLab(opening, async (lab) => {
      proxy.set(set);
      const f = failure(await lab.cycle('m'));
      expect(f).toMatchObject({ code, class: cls, scope: 'server' });
      const before = await lab.store.mail.countEmails('m');
      // What was committed before the fault is whole: one email per UID up to the cursor.
      expect((await lab.store.mail.getCursor('m', 'INBOX'))?.lastUid ?? 0).toBe(before);

      proxy.clear();
      expect(await lab.cycle('m')).toMatchObject({ result: 'success', itemsProcessed: MESSAGES - before });
      await expectEachMessageOnce(lab, MESSAGES);
    });
  });

  it('a bandwidth cap slows the cycle but it succeeds: every message once', async () => {
    const proxy = await proxyTo(dovecot.imapPort);
    const { lab: opening } = await imapLab(proxy);
    await withLab(opening, async (lab) => {
      proxy.set({ kind: 'bandwidth', bytesPerSecond: 512_000 });
      expect(await lab.cycle('m')).toMatchObject({ result: 'success', itemsProcessed: MESSAGES });
      await expectEachMessageOnce(lab, MESSAGES);
    });
  });

  const kept: { fault: string; cut: (p: FaultProxy) => void }[] = [
    { fault: 'kept session reset between cycles', cut: (p) => p.resetOpen() },
    { fault: 'kept session gone silent between cycles (half-open)', cut: (p) => p.setOpen({ kind: 'silent' }) },
  ];

  it.each(kept)('$fault: the next cycle logs in afresh and succeeds, no failure recorded', async ({ cut }) => {
    const proxy = await proxyTo(dovecot.imapPort);
    const { user, lab: opening } = await imapLab(proxy);
    await withLab(opening, async (lab) => {
      expect(await lab.cycle('m')).toMatchObject({ result: 'success', itemsProcessed: MESSAGES });
      expect(lab.sessions.idleCount).toBe(1);
      expect(proxy.accepted).toBe(1);
      await dovecot.append(user, 'INBOX', [makeMessage(100), makeMessage(101)]);

      cut(proxy);
      expect(await lab.cycle('m')).toMatchObject({ result: 'success', itemsProcessed: 2 });
      expect(proxy.accepted).toBe(2);
      expect(await lab.state('m')).toMatchObject({ consecutiveFailures: 0 });
      await expectEachMessageOnce(lab, MESSAGES + 2);
    });
  });

  it('a kept session cut while the server stays unreachable: the next cycle fails as connect_failed, then recovers', async () => {
    const proxy = await proxyTo(dovecot.imapPort);
    const { lab: opening } = await imapLab(proxy);
    await withLab(opening, async (lab) => {
      expect(await lab.cycle('m')).toMatchObject({ result: 'success' });
      proxy.set({ kind: 'silent' });
      expect(failure(await lab.cycle('m'))).toMatchObject({ code: 'connect_failed', class: 'transient' });
      proxy.clear();
      expect(await lab.cycle('m')).toMatchObject({ result: 'success', itemsProcessed: 0 });
      await expectEachMessageOnce(lab, MESSAGES);
    });
  });
});

describe('SMTP (smtp-server over STARTTLS) through the fault proxy', () => {
  /** An SMTP server behind a fresh proxy, a mailbox that sends through it, and a clock for the retry gate. */
  async function smtpLab(outgoing: Record<string, unknown> = {}, timeouts = TIMEOUTS) {
    const user = dovecot.addUser(unique('fs'));
    const cert = makeCert(certDir, unique('smtp'));
    // The server files what it accepts in the sender's Sent folder, as Microsoft 365 and Gmail do.
    const server = await SmtpLab.start({ cert, users: { [user.name]: user.password }, dovecot, saveToSent: true });
    smtpServers.push(server);
    const proxy = await proxyTo(server.port);
    const profile = {
      ...labProfile(dovecot, 'fp', { timeouts }),
      outgoing: { host: 'localhost', port: proxy.port, security: 'starttls', caFile: cert.cert, ...outgoing },
    };
    const clock = manualClock();
    const lab = openLab(dovecot, { mailboxes: [{ id: 'm', user: user.name, profile: 'fp', incoming: false, outgoing: true }], profiles: [profile] }, clock);
    return { server, proxy, clock, lab };
  }

  /** A clean send's server bytes are about 1,900 (greeting, EHLO, STARTTLS, the TLS handshake, AUTH, MAIL, RCPT, DATA). */
  const cases: { fault: string; set: Fault; code: string; cls: 'transient' }[] = [
    { fault: 'reset during the TLS handshake', set: { kind: 'reset', afterBytes: 600 }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'reset mid-session (after the login)', set: { kind: 'reset', afterBytes: 1_650 }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'silent mid-session (half-open)', set: { kind: 'silent', afterBytes: 1_000 }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'silent from the start (half-open)', set: { kind: 'silent' }, code: 'connect_failed', cls: 'transient' },
    { fault: 'drip from the greeting', set: { kind: 'drip' }, code: 'connect_failed', cls: 'transient' },
    { fault: 'drip mid-session', set: { kind: 'drip', afterBytes: 1_000 }, code: 'server_unavailable', cls: 'transient' },
    { fault: 'stall after the greeting', set: { kind: 'stallAfterGreeting' }, code: 'server_unavailable', cls: 'transient' },
  ];

  it.each(cases)('$fault: $code ($cls); the email waits as Pending Send and is delivered once after the fault clears', async ({ set, code, cls }) => {
    const { server, proxy, clock, lab: opening } = await smtpLab();
    await withLab(opening, async (lab) => {
      const queued = await lab.queue('m', { to: ['to@remote.example'] });
      proxy.set(set);
      const first = await lab.send('m');
      expect(failure(first.outcome)).toMatchObject({ code, class: cls, scope: 'server', disabled: false });
      expect(await lab.email(queued.id)).toMatchObject({ state: 'pending_send' });
      expect(server.count(queued.messageId)).toBe(0);

      proxy.clear();
      clock.set(first.nextDueAt as number);
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
      expect(await lab.email(queued.id)).toMatchObject({ state: 'sent' });
      expect(server.count(queued.messageId)).toBe(1);
    });
  });

  it('a bandwidth cap slows the send but it succeeds, once', async () => {
    // The proxy takes the 270 KB of DATA at once and passes it on at 100 KB/s, as a link with deep
    // buffers does: the client then waits about 2.7 s for the 250 with its socket idle, which the
    // fault cases' 3 s idle timeout left no room for on a loaded machine. A socket timeout is
    // inactivity, so it is set above the transfer here; the timeouts' own cases are above.
    const { server, proxy, lab: opening } = await smtpLab({}, { ...TIMEOUTS, socketSeconds: 15 });
    await withLab(opening, async (lab) => {
      const queued = await lab.queue('m', { to: ['to@remote.example'], attachments: [{ filename: 'a.bin', contentType: undefined, content: Buffer.alloc(200_000, 7) }] });
      proxy.set({ kind: 'bandwidth', bytesPerSecond: 100_000 });
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
      expect(server.count(queued.messageId)).toBe(1);
    });
  });

  const kept: { fault: string; cut: (p: FaultProxy) => void }[] = [
    { fault: 'kept pool connection reset between sends', cut: (p) => p.resetOpen() },
    { fault: 'kept pool connection gone silent between sends (half-open)', cut: (p) => p.setOpen({ kind: 'silent' }) },
  ];

  it.each(kept)('$fault: the next email goes out on a new connection, once, no failure recorded', async ({ cut }) => {
    const { server, proxy, lab: opening } = await smtpLab();
    await withLab(opening, async (lab) => {
      const a = await lab.queue('m', { to: ['to@remote.example'] });
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
      cut(proxy);
      const b = await lab.queue('m', { to: ['to@remote.example'] });
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
      expect(proxy.accepted).toBe(2);
      expect([server.count(a.messageId), server.count(b.messageId)]).toEqual([1, 1]);
    });
  });

  /** The server takes the email, then the path cuts the connection before its 250 reaches mailsync. */
  async function loseThe250(sentCopy: 'server' | 'none') {
    const { server, proxy, clock, lab: opening } = await smtpLab({ sentCopy });
    return withLab(opening, async (lab) => {
      const queued = await lab.queue('m', { to: ['to@remote.example'] });
      server.hooks.beforeAccept = () => {
        proxy.set({ kind: 'reset', afterBytes: 0 });
        return Promise.resolve(true);
      };
      const first = await lab.send('m');
      expect(failure(first.outcome)).toMatchObject({ code: 'server_unavailable', class: 'transient', disabled: false });
      expect(server.count(queued.messageId)).toBe(1);
      const afterFault = (await lab.email(queued.id)).state;
      server.hooks.beforeAccept = undefined;
      proxy.clear();
      clock.set(first.nextDueAt as number);
      expect((await lab.send('m')).outcome).toMatchObject({ result: 'success' });
      return { afterFault, email: await lab.email(queued.id), deliveries: server.count(queued.messageId) };
    });
  }

  it('a 250 lost after the server took the email: with the provider\'s Sent copy, reconciled as sent, delivered once', async () => {
    const r = await loseThe250('server');
    // Not put back in the queue: the outcome is unknown until the Sent folder answers.
    expect(r.afterFault).toBe('sending');
    expect(r.email).toMatchObject({ state: 'sent', smtpResponse: 'found in the Sent folder after an interrupted send' });
    expect(r.deliveries).toBe(1);
  });

  it('a 250 lost without a Sent copy to ask: sent again with the same Message-ID (at-least-once, as documented)', async () => {
    const r = await loseThe250('none');
    expect(r.afterFault).toBe('pending_send');
    expect(r.email).toMatchObject({ state: 'sent' });
    expect(r.deliveries).toBe(2);
  });
});

/** SIGTERM while the fault holds the connection: the runner must stop cleanly on its own (the test timeout bounds it). */
async function expectGracefulStop(run: Running): Promise<void> {
  run.child.kill('SIGTERM');
  expect(await run.exited).toEqual({ code: 0, signal: null });
  expect(run.stdout()).toContain('"msg":"mailsync stopped"');
}

describe('a graceful stop while a fault holds the connection', () => {
  it('mailsync run, SIGTERMed while an SMTP send hangs on a half-open connection, exits 0; the next run delivers the email once', async () => {
    const user = dovecot.addUser(unique('tsend'));
    const cert = makeCert(certDir, unique('smtp'));
    const server = await SmtpLab.start({ cert, users: { [user.name]: user.password }, dovecot, saveToSent: true });
    smtpServers.push(server);
    const proxy = await proxyTo(server.port);
    process.env.LAB_FP_TOKEN = 'operator-token-for-the-fault-proxy';
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'm', user: user.name, profile: 'fp', incoming: false, outgoing: true }],
      profiles: [{
        // A socket timeout far longer than the test's: only the stop itself can end the send in time.
        ...labProfile(dovecot, 'fp', { timeouts: { ...TIMEOUTS, socketSeconds: 600 } }),
        outgoing: { host: 'localhost', port: proxy.port, security: 'starttls', caFile: cert.cert, sentCopy: 'server' },
      }],
      // No spread of first cycles: the restarted runner looks at the queue at once.
      sync: { jitterRatio: 0 },
      extra: { api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_FP_TOKEN}' }] } },
    });
    const env = { ...lab.env, LAB_FP_TOKEN: process.env.LAB_FP_TOKEN };
    proxy.set({ kind: 'silent', afterBytes: 1_650 });
    let run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    let messageId: string;
    try {
      const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
      const res = await callApi(url, 'operator-token-for-the-fault-proxy', 'POST', '/mailboxes/m/emails', { to: ['to@remote.example'], subject: 'held', text: 'x' });
      messageId = ((await res.json()) as { email: { messageId: string } }).email.messageId;
      await waitFor(() => proxy.delivered >= 1_650, { what: 'the fault to hold the SMTP connection in the middle of the send' });
      await expectGracefulStop(run);
    } finally {
      await run.stop();
    }

    proxy.clear();
    run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    try {
      await waitFor(() => server.count(messageId), { what: 'the email to be delivered after the restart', until: (n) => n > 0 });
    } finally {
      // A graceful stop lets the cycle under way finish: a second send, if any, would be in by now.
      await run.stop();
    }
    expect(server.count(messageId)).toBe(1);
  });

  it('mailsync run, SIGTERMed while its IMAP connection is half-open mid-fetch, exits 0; the next run stores the rest once', async () => {
    const proxy = await proxyTo(dovecot.imapPort);
    const user = dovecot.addUser(unique('term'));
    dovecot.seedMaildir(user.name, Array.from({ length: MESSAGES }, (_, i) => makeMessage(i, { attachmentBytes: 20_000 })));
    // A socket timeout far longer than the test's: only the stop itself can end the cycle in time.
    const profile = labProfile(dovecot, 'fp', {
      incoming: { host: 'localhost', port: proxy.port, security: 'starttls', caFile: dovecot.cert.cert },
      timeouts: { ...TIMEOUTS, socketSeconds: 600 },
    });
    const lab = writeLabConfig(dovecot, { mailboxes: [{ id: 'm', user: user.name, profile: 'fp' }], profiles: [profile], sync: { batchSize: 5 } });
    proxy.set({ kind: 'silent', afterBytes: MID_FETCH });
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
    try {
      await waitFor(() => proxy.delivered >= MID_FETCH, { what: 'the fault to hold the connection in the middle of a FETCH' });
      await expectGracefulStop(run);
    } finally {
      await run.stop();
    }

    proxy.clear();
    expect((await runCli(['sync-once', '--config', lab.file, '--mailbox', 'm'], lab.env)).code).toBe(0);
    const store = await openStore({ path: path.join(lab.dir, 'mailsync.db') });
    try {
      expect(await store.mail.countEmails('m')).toBe(MESSAGES);
      expect((await store.mail.emailLocations('m')).map((l) => l.uid).sort((a, b) => a - b)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
      expect((await store.runs.listRuns('m')).map((r) => r.result)).toEqual(['success', 'aborted']);
    } finally {
      await store.close();
    }
  });
});
