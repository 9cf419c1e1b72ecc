import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { freePort } from '../harness/ports.js';
import { Postgres } from '../harness/postgres.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';
import { isReady, liveRunners, overlappingRuns, staleOpenRuns, type RunnerProcess } from '../support/runner-history.js';

/**
 * Issue 16's outgoing across runners: three `mailsync run` processes on one PostgreSQL send the
 * Pending Send queues of 30 mailboxes to one SMTP server that files a Sent copy (as Microsoft 365
 * and Gmail do). Emails are queued through the admin API of any runner, mostly not the one
 * holding the mailbox; one runner is SIGKILLed with sends of its own under way. Every email must
 * reach the server exactly once, none stay `sending`, no two runners run one mailbox's outgoing at
 * once, and six mailboxes of a profile limited to 5 messages a minute never send more than that
 * in any minute between them, whichever runners hold them.
 */
const LEASE_SECONDS = 3;
const DB = 'outgoing';
const TOKEN = 'operator-token-for-the-runners-outgoing-test';
const LIMIT = 5;
const PER_MAILBOX = 3;
const ids = Array.from({ length: 30 }, (_, i) => `o${String(i).padStart(2, '0')}`);
const limited = new Set(ids.slice(24));
const SLOW = { connectSeconds: 30, greetingSeconds: 30, socketSeconds: 300 };

let pg: Postgres;
let dovecot: Dovecot;
let smtp: SmtpLab;
let certDir: string;
const runners = new Map<string, RunnerProcess>();

const sql = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) => pg.sql<R>(text, values, DB);

/** The mailboxes whose outgoing lease `runner` holds now, by the database's clock. */
async function heldBy(runner: string): Promise<string[]> {
  return (await sql<{ mailbox_id: string }>(`SELECT mailbox_id FROM leases WHERE runner = $1 AND direction = 'outgoing'
    AND expires_at > clock_timestamp() ORDER BY mailbox_id`, [runner])).map((r) => r.mailbox_id);
}

async function startRunner(id: string): Promise<void> {
  const listen = `127.0.0.1:${await freePort()}`;
  const outgoing = { host: 'localhost', port: smtp.port, security: 'starttls', caFile: path.join(certDir, 'smtp.crt'), sentCopy: 'server' };
  const lab = writeLabConfig(dovecot, {
    listen,
    mailboxes: ids.map((m) => ({ id: m, user: `u-${m}`, incoming: false, outgoing: true, profile: limited.has(m) ? 'limited' : 'lab' })),
    // The server holds its answers until r3 is killed (below): long enough socket timeouts that a
    // loaded machine's slow queueing does not turn the held sends into timeouts and retries.
    profiles: [
      { ...labProfile(dovecot, 'lab', { timeouts: SLOW }), outgoing },
      { ...labProfile(dovecot, 'limited', { timeouts: SLOW }), outgoing: { ...outgoing, limits: { messagesPerMinute: LIMIT } } },
    ],
    // The scan stays at its default (300 s): an email queued on another runner must wake the holder itself.
    sync: { jitterRatio: 0 },
    extra: {
      store: { driver: 'postgresql', postgresql: { url: '${LAB_PG_URL}', poolSize: 4 } },
      runner: { id },
      leases: { seconds: LEASE_SECONDS },
      api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_OUT_TOKEN}' }] },
      log: { level: 'info' },
    },
  });
  runners.set(id, { run: startCli(['run', '--config', lab.file], lab.env), listen });
}

function runner(id: string): RunnerProcess {
  const r = runners.get(id);
  if (!r) throw new Error(`no runner ${id}`);
  return r;
}

beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-runners-smtp-'));
  const cert = makeCert(certDir, 'smtp');
  [pg, dovecot] = await Promise.all([Postgres.start(), Dovecot.start()]);
  const users = Object.fromEntries(ids.map((m) => {
    const user = dovecot.addUser(`u-${m}`);
    return [user.name, user.password];
  }));
  smtp = await SmtpLab.start({ cert, users, dovecot, saveToSent: true });
  process.env.LAB_PG_URL = await pg.createDatabase(DB);
  process.env.LAB_OUT_TOKEN = TOKEN;
}, 120_000);
afterAll(async () => {
  for (const { run } of runners.values()) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await smtp?.stop();
  await dovecot?.stop();
  await pg?.destroy();
  rmSync(certDir, { recursive: true, force: true });
}, 60_000);

describe('three mailsync runners sending from one PostgreSQL', () => {
  it('deliver every email queued on any runner exactly once, through a SIGKILL mid-send, within the shared profile limit', async () => {
    await Promise.all(['r1', 'r2', 'r3'].map(startRunner));
    for (const id of ['r1', 'r2', 'r3']) await waitFor(() => isReady(id, runner(id)), { what: `${id} ready`, timeoutMs: 60_000, intervalMs: 200 });
    await waitFor(async () => (await Promise.all(['r1', 'r2', 'r3'].map(heldBy))).map((h) => h.length), {
      what: 'every outgoing lease held, by all three', until: (n) => n.every((h) => h > 0) && n.reduce((a, b) => a + b, 0) === ids.length,
    });

    // The server takes every message and holds its answer until r3 is killed: sends pile up in
    // flight on every runner, the way they would against a slow provider.
    let open!: (accept: boolean) => void;
    const gate = new Promise<boolean>((resolve) => (open = resolve));
    const heldUsers = new Set<string>();
    smtp.hooks.beforeAccept = (user) => {
      if (user) heldUsers.add(user);
      return gate;
    };
    const queued: { mailbox: string; id: number; messageId: string }[] = [];
    let n = 0;
    for (let k = 0; k < PER_MAILBOX; k += 1) {
      for (const mailbox of ids) {
        // Round robin over the runners: mostly not the one holding the mailbox.
        const via = runner(['r1', 'r2', 'r3'][(n += 1) % 3] as string);
        const res = await callApi(`http://${via.listen}`, TOKEN, 'POST', `/mailboxes/${mailbox}/emails`, { to: ['partner@remote.example'], subject: `${mailbox} #${k}`, text: 'sent by one of three runners' });
        expect(res.status).toBe(202);
        const { email } = await res.json() as { email: { id: number; messageId: string } };
        queued.push({ mailbox, ...email });
      }
    }

    // Killed while the server holds a message of one of its mailboxes, after DATA, before the 250.
    // (A mailbox whose message the server holds keeps its holder: a lease is shed only once its cycle has ended.)
    await waitFor(async () => (await heldBy('r3')).some((m) => heldUsers.has(`u-${m}`)), { what: 'r3 in the middle of a send', timeoutMs: 60_000 });
    runner('r3').run.child.kill('SIGKILL');
    await runner('r3').run.exited;
    smtp.hooks.beforeAccept = undefined;
    open(true);

    await waitFor(async () => (await Promise.all(['r1', 'r2'].map(heldBy))).flat().length, {
      what: 'r3\'s mailboxes held by r1 and r2', until: (h) => h === ids.length, timeoutMs: 10 * LEASE_SECONDS * 1_000,
    });
    const states = () => sql<{ mailbox_id: string; state: string; n: number }>('SELECT mailbox_id, state, count(*)::int AS n FROM outgoing_email GROUP BY mailbox_id, state');
    // Settled: every email sent, except in a limited mailbox whose cycle postponed one (the emails
    // behind it wait with it, Pending Send, for the same minute to pass).
    const unsettled = (rows: Awaited<ReturnType<typeof states>>) => rows.filter((r) => r.state !== 'sent'
      && !(limited.has(r.mailbox_id) && r.state !== 'sending' && rows.some((p) => p.mailbox_id === r.mailbox_id && p.state === 'postponed')));
    await waitFor(states, { what: 'every email sent or, in the limited profile, waiting behind a postponed one', until: (rows) => unsettled(rows).length === 0, timeoutMs: 90_000, intervalMs: 250 });

    // Exactly once on the server: r3's held message was taken after it died, and its new holder
    // found it in the Sent folder instead of sending it again.
    const emails = await sql<{ message_id: string; mailbox_id: string; state: string }>('SELECT message_id, mailbox_id, state FROM outgoing_email');
    expect(emails).toHaveLength(queued.length);
    const wrong = emails.filter((e) => smtp.count(e.message_id) !== (e.state === 'sent' ? 1 : 0)).map((e) => `${e.mailbox_id} ${e.message_id} ${e.state}: ${smtp.count(e.message_id)}`);
    expect(wrong).toEqual([]);
    expect(smtp.deliveries).toHaveLength(emails.filter((e) => e.state === 'sent').length);
    const reconciled = await sql<{ n: number }>("SELECT count(*)::int AS n FROM outgoing_event WHERE detail LIKE 'reconciled: % is in %'");
    expect(reconciled[0]?.n).toBeGreaterThan(0);

    // The profile's limit over every runner: no minute with more than LIMIT sends, and it was reached.
    const sends = (await sql<{ at: number }>("SELECT at::float8 AS at FROM send_log WHERE profile_id = 'limited' ORDER BY at")).map((r) => r.at);
    const busiest = Math.max(...sends.map((at) => sends.filter((b) => b > at - 60_000 && b <= at).length));
    expect(sends.length).toBeGreaterThan(0);
    expect(busiest).toBeLessThanOrEqual(LIMIT);
    const postponed = await sql<{ n: number }>(`SELECT count(DISTINCT e.id)::int AS n FROM outgoing_event ev JOIN outgoing_email e ON e.id = ev.email_id
      WHERE ev.state = 'postponed' AND e.mailbox_id = ANY($1)`, [[...limited]]);
    expect(postponed[0]?.n).toBeGreaterThan(0);

    expect(await overlappingRuns(sql)).toEqual([]);
    expect(await staleOpenRuns(sql, liveRunners(runners))).toEqual([]);
  }, 240_000);
});
