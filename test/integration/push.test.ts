import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../harness/cli.js';
import { writeLabConfig, labProfile } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';

// IMAP IDLE against a real Dovecot: new mail reaches the store at once although the poll interval
// is an hour; IDLE is issued again on its interval; a kicked session recovers; a server that does
// not offer IDLE is polled.
let dovecot: Dovecot;
let noIdle: Dovecot;
beforeAll(async () => {
  [dovecot, noIdle] = await Promise.all([
    Dovecot.start(),
    // The capability list after login, as Dovecot's own default less IDLE.
    Dovecot.start({ extraConfig: 'protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UIDPLUS\n}\n' }),
  ]);
});
afterAll(async () => {
  await Promise.all([dovecot?.stop(), noIdle?.stop()]);
});

const isLog = (msg: string, extra: (e: Record<string, unknown>) => boolean = () => true) => (e: Record<string, unknown>) => e.msg === msg && extra(e);
const storedOne = (mailbox: string) => isLog('incoming cycle finished', (e) => e.mailbox === mailbox && e.items === 1);

function start(server: Dovecot, name: string, incoming: Record<string, unknown> = {}, sync: Record<string, unknown> = {}) {
  const user = server.addUser(name).name;
  server.seedMaildir(user, [makeMessage(1)]);
  const base = labProfile(server, 'lab');
  const lab = writeLabConfig(server, {
    mailboxes: [{ id: name, user }],
    profiles: [{ ...base, incoming: { ...(base.incoming as object), ...incoming } }],
    // An hour between polls: whatever arrives within the test arrives by push or not at all.
    sync: { pollIntervalSeconds: 3_600, jitterRatio: 0, ...sync },
  });
  const run = startCli(['run', '--config', lab.file, '--log-level', 'debug'], lab.env);
  const url = run.waitForLog(isLog('mailsync started')).then((e) => String(e.url));
  url.catch(() => undefined); // awaited by the tests that read /metrics only
  // The first cycle reads the seeded message (and starts the watch before it logs its end).
  const synced = run.waitForLog(storedOne(name));
  return { run, user, url, synced };
}

async function metric(url: Promise<string>, name: string): Promise<number> {
  const text = await (await fetch(`${await url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

describe('incoming.push: idle', () => {
  it('stores a delivered message without waiting for the poll, and counts its lag', async () => {
    const { run, user, url, synced } = start(dovecot, 'push-new');
    try {
      await synced;
      expect(run.stdout() + run.stderr()).toContain('waiting in IDLE for new mail');
      dovecot.deliver(user, 'INBOX', makeMessage(2, { subject: 'pushed' }));
      await run.waitForLog(storedOne('push-new'));
      expect(await metric(url, 'mailsync_sync_lag_seconds_count{profile="lab"}')).toBe(1);
    } finally {
      await run.stop();
    }
  });

  it('issues IDLE again on its interval and still sees new mail after that', async () => {
    const { run, user, synced } = start(dovecot, 'push-restart', { idleRestartSeconds: 1 });
    try {
      await synced;
      await run.waitForLog(isLog('IDLE re-issued', (e) => Number(e.restarts) >= 2));
      dovecot.deliver(user, 'INBOX', makeMessage(2));
      await run.waitForLog(storedOne('push-restart'));
    } finally {
      await run.stop();
    }
  });

  it('recovers a session kicked by the server while in IDLE: logs in again and waits anew', async () => {
    const { run, user, synced } = start(dovecot, 'push-kick');
    try {
      await synced;
      const again = run.waitForLog(isLog('waiting in IDLE for new mail'));
      dovecot.doveadm(['kick', user]);
      await again;
      dovecot.deliver(user, 'INBOX', makeMessage(2));
      await run.waitForLog(storedOne('push-kick'));
    } finally {
      await run.stop();
    }
  });

  it('ends IDLE with DONE and LOGOUT on a graceful stop', async () => {
    const { run, user, synced } = start(dovecot, 'push-stop');
    await synced;
    await run.stop();
    expect((await run.exited).code).toBe(0);
    const lines = readFileSync(dovecot.logFile, 'utf8').split('\n').filter((l) => l.includes(`imap(${user})`));
    // "Disconnected: Logged out" after LOGOUT; a dropped IDLE would read "Connection closed (IDLE running ...)".
    expect(lines.some((l) => l.includes('Logged out'))).toBe(true);
    expect(lines.filter((l) => /Connection closed|IDLE running/.test(l))).toEqual([]);
  });

  it('polls a server that does not offer IDLE', async () => {
    const { run, user, synced } = start(noIdle, 'no-idle', {}, { pollIntervalSeconds: 1 });
    try {
      await synced;
      noIdle.deliver(user, 'INBOX', makeMessage(2));
      await run.waitForLog(storedOne('no-idle'));
      expect(run.stdout() + run.stderr()).not.toContain('waiting in IDLE');
    } finally {
      await run.stop();
    }
  });

  it('does not wait in IDLE with incoming.push: none', async () => {
    const { run, synced } = start(dovecot, 'push-none', { push: 'none' });
    try {
      await synced;
      expect(run.stdout() + run.stderr()).not.toContain('waiting in IDLE');
    } finally {
      await run.stop();
    }
  });
});
