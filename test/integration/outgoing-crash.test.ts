import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';

/**
 * The runner process is killed (SIGKILL) at each point of a send, restarted, and the receiving
 * server's log must show the email delivered exactly once where the Sent folder can tell what
 * happened, and at least once (never lost) where nothing can.
 */
const TOKEN = 'operator-token-for-the-crash-test';
let dovecot: Dovecot;
let smtp: SmtpLab;
let certDir: string;
let lab: ReturnType<typeof writeLabConfig>;
let dbPath: string;
let user: { name: string; password: string };

beforeAll(async () => {
  dovecot = await Dovecot.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-crash-smtp-'));
  user = dovecot.addUser('crashsend');
  const cert = makeCert(certDir, 'smtp');
  // The server saves a copy of what it accepts to the sender's Sent folder, as Microsoft 365 and Gmail do.
  smtp = await SmtpLab.start({ cert, users: { [user.name]: user.password }, dovecot, saveToSent: true });
  process.env.LAB_CRASH_TOKEN = TOKEN;
  const outgoing = (sentCopy: string) => ({ host: 'localhost', port: smtp.port, security: 'starttls', caFile: cert.cert, sentCopy });
  lab = writeLabConfig(dovecot, {
    mailboxes: [
      { id: 'copy', user: user.name, incoming: false, outgoing: true },
      { id: 'nocopy', user: user.name, address: 'crashsend-alias@lab.example', profile: 'blind', incoming: false, outgoing: true },
    ],
    profiles: [
      { ...labProfile(dovecot, 'lab'), outgoing: outgoing('server') },
      { ...labProfile(dovecot, 'blind'), outgoing: outgoing('none') },
    ],
    sync: { jitterRatio: 0 },
    extra: { api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_CRASH_TOKEN}' }] } },
  });
  dbPath = path.join(lab.dir, 'mailsync.db');
}, 60_000);

afterAll(async () => {
  await smtp?.stop();
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

async function startRunner(): Promise<{ run: Running; url: string }> {
  const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
  return { run, url: String(url) };
}

async function kill(run: Running): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
}

async function queue(url: string, mailbox: string, subject: string): Promise<{ id: number; messageId: string }> {
  const res = await callApi(url, TOKEN, 'POST', `/mailboxes/${mailbox}/emails`, { to: ['partner@remote.example'], subject, text: 'crash test' });
  expect(res.status).toBe(202);
  return (await res.json() as { email: { id: number; messageId: string } }).email;
}

async function waitForState(url: string, mailbox: string, id: number, state: string): Promise<{ history: { detail: string; state: string }[] }> {
  const read = async () => await (await fetch(`${url}/api/mailboxes/${mailbox}/emails/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { state: string; history: { detail: string; state: string }[] };
  return waitFor(read, { what: `email ${id} to be ${state}`, until: (email) => email.state === state, intervalMs: 100 });
}

/** The mailbox's runs as the API shows them (a run not finished has no finishedAt). */
async function runs(url: string, mailbox: string): Promise<{ finishedAt: number | null }[]> {
  return ((await (await callApi(url, TOKEN, 'GET', `/mailboxes/${mailbox}`)).json()) as { runs: { finishedAt: number | null }[] }).runs;
}

/** Resolves when a hook fires; the returned `release` lets the server go on. */
function hold(set: (fn: () => Promise<void>) => void): { reached: Promise<void>; release: () => void } {
  let release!: () => void;
  let reached!: () => void;
  const reachedP = new Promise<void>((r) => (reached = r));
  set(() => new Promise<void>((r) => {
    release = r;
    reached();
  }));
  return { reached: reachedP, release: () => release() };
}

/** Holds the store's write lock, as a slow disk would, so the runner cannot record the 250 it got. */
function lockStore(): () => void {
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  db.exec('BEGIN EXCLUSIVE');
  return () => {
    db.exec('ROLLBACK');
    db.close();
  };
}

describe('a send interrupted by SIGKILL', () => {
  it('killed while connecting: sent once after the restart', async () => {
    const first = await startRunner();
    const h = hold((fn) => (smtp.hooks.onConnect = fn));
    const email = await queue(first.url, 'copy', 'killed while connecting');
    await h.reached;
    await kill(first.run);
    smtp.hooks.onConnect = undefined;
    h.release();
    const second = await startRunner();
    try {
      const done = await waitForState(second.url, 'copy', email.id, 'sent');
      expect(smtp.count(email.messageId)).toBe(1);
      expect(done.history.map((e) => e.detail)).toContainEqual(expect.stringContaining('is not in \\Sent, the send did not complete'));
    } finally {
      await kill(second.run);
    }
  });

  it('killed after DATA, before the server answered: sent once after the restart', async () => {
    const first = await startRunner();
    let release!: (accept: boolean) => void;
    const reached = new Promise<void>((r) => {
      smtp.hooks.beforeAccept = () => new Promise<boolean>((accept) => {
        release = accept;
        r();
      });
    });
    const email = await queue(first.url, 'copy', 'killed after DATA');
    await reached;
    await kill(first.run);
    smtp.hooks.beforeAccept = undefined;
    // The client is gone before the 250: the server does not take the message.
    release(false);
    const second = await startRunner();
    try {
      await waitForState(second.url, 'copy', email.id, 'sent');
      expect(smtp.count(email.messageId)).toBe(1);
      expect(dovecot.countMessageId(user.name, 'Sent', email.messageId)).toBe(1);
    } finally {
      await kill(second.run);
    }
  });

  /**
   * Queues an email and kills the runner between the server's 250 and the store's commit: the
   * test holds the store's write lock from MAIL FROM on, so the runner cannot record the 250.
   */
  async function killAfterAccept(mailbox: string, subject: string): Promise<{ id: number; messageId: string }> {
    const first = await startRunner();
    let unlock: (() => void) | undefined;
    smtp.hooks.onMailFrom = async () => {
      unlock = lockStore();
    };
    const accepted = new Promise<void>((r) => (smtp.hooks.afterAccept = () => r()));
    const email = await queue(first.url, mailbox, subject);
    await accepted;
    // Killed at once: whether the runner has read the 250 yet or waits on the lock to record it,
    // the store cannot have it, and the store is all that a restart sees.
    await kill(first.run);
    smtp.hooks.onMailFrom = undefined;
    smtp.hooks.afterAccept = undefined;
    unlock?.();
    expect(smtp.count(email.messageId)).toBe(1);
    return email;
  }

  it('killed after the 250, before the store recorded it: found in Sent, not sent again', async () => {
    const email = await killAfterAccept('copy', 'killed after 250');
    const second = await startRunner();
    try {
      const done = await waitForState(second.url, 'copy', email.id, 'sent');
      expect(done.history.map((e) => e.detail)).toContainEqual(expect.stringContaining('is in \\Sent'));
      // Not sent again: the cycle that found it in Sent, the one that would have sent it, has finished.
      await waitFor(() => runs(second.url, 'copy'), { what: 'the reconciling cycle to finish', until: (r) => r.every((run) => run.finishedAt !== null) });
      expect(smtp.count(email.messageId)).toBe(1);
    } finally {
      await kill(second.run);
    }
  });

  it('without a Sent copy to check, the same kill resends the same message: at least once, never lost', async () => {
    const email = await killAfterAccept('nocopy', 'no Sent copy');
    const second = await startRunner();
    try {
      const done = await waitForState(second.url, 'nocopy', email.id, 'sent');
      expect(done.history.map((e) => e.detail)).toContainEqual(expect.stringContaining('sending again with the same Message-ID'));
      expect(smtp.count(email.messageId)).toBe(2);
    } finally {
      await kill(second.run);
    }
  });
});
