/**
 * soak:crash: real `mailsync run` processes on a real Dovecot and SMTP server, SIGKILLed at
 * random moments (seeded: the seed is printed so a failure can be replayed) while they ingest
 * mail, send the Pending Send queue (now and then a burst of emails that one cycle sends over
 * all its connections) and run Test & Enable, and restarted each time. After every
 * kill the store must pass SQLite's integrity check and the raw-bytes check (every range a row
 * points at exists in its pack and matches its SHA-256) and hold no message twice; at the end,
 * against the servers, every message is stored exactly once (by content and by location), every
 * queued email is delivered exactly once where the Sent copy lets a restart tell (at least once
 * where it cannot), and no run is left open. Last line:
 *   RESULT kills=N lost=N duplicated=N double_sent=N unsent=N integrity_errors=N seed=S
 * Usage: npm run soak:crash -- [--kills N] [--seed S]   (N defaults to 200)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../exporter/src/store/index.js';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot, type DovecotUser } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';
import { progress, seededRandom } from '../bench/common.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '200' }, seed: { type: 'string' } } });
const KILLS = Number(values.kills);
const SEED = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
if (!Number.isInteger(KILLS) || KILLS < 1 || !Number.isInteger(SEED)) throw new Error('usage: soak:crash -- [--kills N] [--seed S] (whole numbers)');
const random = seededRandom(SEED);
const pick = (n: number) => Math.floor(random() * n);
const TOKEN = 'operator-token-for-the-crash-campaign';
const INCOMING = ['in-a', 'in-b', 'in-c'];

async function main(): Promise<void> {
  progress(`seed ${SEED}: ${KILLS} kills`);
  const dovecot = await Dovecot.start();
  const certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-soak-crash-'));
  let smtp: SmtpLab | undefined;
  let run: Running | undefined;
  try {
    const users = new Map(INCOMING.map((id) => [id, dovecot.addUser(`soak-${id}`)]));
    const sender = dovecot.addUser('soak-sender');
    const cert = makeCert(certDir, 'smtp');
    // The server files what it accepts in the sender's Sent folder, as Microsoft 365 and Gmail do.
    smtp = await SmtpLab.start({ cert, users: { [sender.name]: sender.password }, dovecot, saveToSent: true });
    const outgoing = (sentCopy: string) => ({ host: 'localhost', port: smtp!.port, security: 'starttls', caFile: cert.cert, sentCopy, maxConnections: 2 });
    // The config names the API token by environment variable, and the lab loads it as it writes it.
    process.env.SOAK_TOKEN = TOKEN;
    const lab = writeLabConfig(dovecot, {
      mailboxes: [
        ...INCOMING.map((id) => ({ id, user: users.get(id)!.name })),
        { id: 'out-copy', user: sender.name, incoming: false, outgoing: true },
        { id: 'out-blind', user: sender.name, address: 'soak-alias@lab.example', profile: 'blind', incoming: false, outgoing: true },
      ],
      profiles: [
        { ...labProfile(dovecot, 'lab'), outgoing: outgoing('server') },
        { ...labProfile(dovecot, 'blind'), outgoing: outgoing('none') },
      ],
      sync: { batchSize: 10, pollIntervalSeconds: 1, jitterRatio: 0, outgoing: { scanIntervalSeconds: 1 } },
      extra: { api: { tokens: [{ name: 'soak', role: 'operator', token: '${SOAK_TOKEN}' }] } },
    });
    const env = { ...lab.env, SOAK_TOKEN: TOKEN };

    const dbPath = path.join(lab.dir, 'mailsync.db');
    const onServer = new Map(INCOMING.map((id) => [id, 0]));
    const queued: { mailbox: string; messageId: string }[] = [];
    let integrityErrors = 0;
    let duplicatedMidway = 0;
    let serial = 0;

    for (let kill = 1; kill <= KILLS; kill++) {
      run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
      const url = String((await run.waitForLog((e) => e.msg === 'mailsync started', 30_000).catch(async () => {
        run!.child.kill('SIGKILL');
        throw new Error(`the runner did not start after kill ${kill - 1}:\n${run!.stderr()}`);
      })).url);
      // New work for this life of the runner: mail to ingest, email to send, now and then a Test & Enable.
      const mailbox = INCOMING[pick(INCOMING.length)]!;
      const count = 20 + pick(60);
      await dovecot.append(users.get(mailbox) as DovecotUser, 'INBOX', Array.from({ length: count }, () => makeMessage(serial++, { attachmentBytes: 2_000 })));
      onServer.set(mailbox, onServer.get(mailbox)! + count);
      const queueEmail = async (from: string, subject: string) => {
        const res = await callApi(url, TOKEN, 'POST', `/mailboxes/${from}/emails`, { to: ['partner@remote.example'], subject, text: 'crash campaign' });
        if (res.status !== 202) throw new Error(`queueing failed: ${res.status} ${await res.text()}`);
        queued.push({ mailbox: from, messageId: ((await res.json()) as { email: { messageId: string } }).email.messageId });
      };
      for (let i = pick(4); i > 0; i--) await queueEmail(random() < 0.5 ? 'out-copy' : 'out-blind', `soak ${serial++}`);
      // B: now and then a burst from the mailbox with a Sent copy: a cycle with many emails due,
      // its connections side by side, so that kills land between the sends of one cycle.
      for (let i = random() < 0.2 ? 10 + pick(10) : 0; i > 0; i--) await queueEmail('out-copy', `soak burst ${serial++}`);
      if (random() < 0.2) await callApi(url, TOKEN, 'POST', `/mailboxes/${INCOMING[pick(INCOMING.length)]}/test-enable`, {});
      // The random moment: a crash campaign kills on a clock, by design (it waits for no condition).
      const killAfterMs = 20 + pick(900);
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      run.child.kill('SIGKILL');
      await run.exited;
      integrityErrors += integrityProblems(dbPath) + await rawBytesProblems(dbPath);
      // Mid-campaign some mail is not synced yet, but nothing may ever be there twice.
      duplicatedMidway += inspect(dbPath, onServer).duplicated;
      if (kill % 10 === 0) progress(`${kill} kills, ${[...onServer.values()].reduce((a, b) => a + b, 0)} messages on the server, ${queued.length} emails queued`);
    }

    // One last life, left to finish everything, then a graceful stop.
    run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    await run.waitForLog((e) => e.msg === 'mailsync started', 30_000);
    await waitFor(() => settled(dbPath, onServer), { what: 'every message stored and every email sent', timeoutMs: 120_000, intervalMs: 250 });
    await run.stop();
    run = undefined;

    const final = inspect(dbPath, onServer);
    const deliveries = new Map<string, number>();
    for (const d of smtp.deliveries) if (d.messageId) deliveries.set(d.messageId, (deliveries.get(d.messageId) ?? 0) + 1);
    const doubleSent = queued.filter((q) => q.mailbox === 'out-copy' && (deliveries.get(q.messageId) ?? 0) > 1).length;
    const unsent = queued.filter((q) => (deliveries.get(q.messageId) ?? 0) === 0).length;
    const resent = queued.filter((q) => q.mailbox === 'out-blind' && (deliveries.get(q.messageId) ?? 0) > 1).length;
    integrityErrors += integrityProblems(dbPath);
    progress(`${queued.length} emails queued; ${resent} sent again without a Sent copy to check (at least once, documented); ${final.openRuns} runs left open`);
    console.log(`RESULT kills=${KILLS} lost=${final.lost} duplicated=${final.duplicated + duplicatedMidway + final.openRuns} double_sent=${doubleSent} unsent=${unsent} integrity_errors=${integrityErrors} seed=${SEED}`);
    if (final.lost + final.duplicated + duplicatedMidway + final.openRuns + doubleSent + unsent + integrityErrors > 0) process.exitCode = 1;
  } finally {
    if (run) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    await smtp?.stop();
    await dovecot.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}

/** SQLite's own check of the file a killed process left behind: 0 when it says "ok". */
function integrityProblems(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.filter((r) => r.integrity_check !== 'ok').length;
  } finally {
    db.close();
  }
}

/** The store check's findings on the raw bytes a killed process left (packs next to the file). */
async function rawBytesProblems(dbPath: string): Promise<number> {
  const store = new SqliteStore({ path: dbPath });
  try {
    return (await store.check(() => undefined)).problems.length;
  } finally {
    await store.close();
  }
}

/** What the store holds against what the servers hold. */
function inspect(dbPath: string, onServer: Map<string, number>) {
  const db = new Database(dbPath, { readonly: true });
  try {
    let lost = 0;
    let duplicated = 0;
    for (const [mailbox, expected] of onServer) {
      const locations = (db.prepare('SELECT count(*) AS n FROM email_location WHERE mailbox_id = ?').get(mailbox) as { n: number }).n;
      const emails = (db.prepare('SELECT count(*) AS n FROM email WHERE mailbox_id = ?').get(mailbox) as { n: number }).n;
      // Each generated message is unique: one email and one location per message on the server.
      lost += Math.max(0, expected - Math.min(locations, emails));
      duplicated += Math.max(0, locations - expected) + Math.max(0, emails - expected);
    }
    const pending = (db.prepare(`SELECT count(*) AS n FROM outgoing_email WHERE state IN ('pending_send', 'sending', 'postponed')`).get() as { n: number }).n;
    const openRuns = (db.prepare('SELECT count(*) AS n FROM sync_run WHERE result IS NULL').get() as { n: number }).n;
    return { lost, duplicated, pending, openRuns };
  } finally {
    db.close();
  }
}

function settled(dbPath: string, onServer: Map<string, number>): boolean {
  const s = inspect(dbPath, onServer);
  return s.lost === 0 && s.pending === 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
