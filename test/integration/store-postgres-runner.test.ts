import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../exporter/src/store/index.js';
import { callApi, runCli, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { Postgres } from '../harness/postgres.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';

/**
 * The real `mailsync` process with `store.driver: postgresql`: a real PostgreSQL reached over TLS
 * (verify-full against the harness's CA), Dovecot for incoming mail, the SMTP harness for outgoing.
 * One incoming cycle and one send go through the runner; the test reads the result in the database.
 */
const OPERATOR = 'operator-token-for-the-postgres-test';

let pg: Postgres;
let dovecot: Dovecot;
let smtp: SmtpLab;
let certDir: string;
let store: Store;
let dbUrl: string;

beforeAll(async () => {
  [pg, dovecot] = await Promise.all([Postgres.start({ tls: true }), Dovecot.start()]);
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-pg-smtp-'));
  dbUrl = await pg.createDatabase('runner');
  store = await openStore({ driver: 'postgresql', path: 'unused', postgresql: { url: dbUrl }, runner: 'test-reader' });
}, 60_000);
afterAll(async () => {
  await store?.close();
  await smtp?.stop();
  await dovecot?.stop();
  await pg?.destroy();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/** The lab's secrets come from the environment, as users are told to; the loader in this process reads them too. */
function labFor(user: { name: string }, caFile: string, storeBlock: Record<string, unknown>, listen: string, databaseUrl: string) {
  process.env.LAB_PG_URL = databaseUrl;
  process.env.LAB_PG_OPERATOR = OPERATOR;
  const profile = { ...labProfile(dovecot, 'lab'), outgoing: { host: 'localhost', port: smtp.port, security: 'starttls', caFile } };
  return writeLabConfig(dovecot, {
    listen,
    mailboxes: [{ id: 'pgbox', user: user.name, outgoing: true }],
    profiles: [profile],
    sync: { jitterRatio: 0, outgoing: { scanIntervalSeconds: 1 } },
    extra: { store: storeBlock, api: { tokens: [{ name: 'ops', role: 'operator', token: '${LAB_PG_OPERATOR}' }] } },
  });
}

describe('mailsync run on PostgreSQL', () => {
  it('syncs a mailbox and sends its queued email through a real runner whose store is PostgreSQL over TLS', async () => {
    const user = dovecot.addUser('pg-user');
    await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2), makeMessage(3)]);
    const cert = makeCert(certDir, 'smtp');
    smtp = await SmtpLab.start({ cert, dovecot, users: { [user.name]: user.password } });
    const storeBlock = {
      driver: 'postgresql',
      postgresql: { url: '${LAB_PG_URL}', ssl: { mode: 'verify-full', caFile: pg.tls!.cert } },
    };
    const listen = `127.0.0.1:${await freePort()}`;
    // trust authentication ignores the password; it is there to prove no log line shows it.
    const lab = labFor(user, cert.cert, storeBlock, listen, dbUrl.replace('mailsync@', 'mailsync:not-needed-here@'));
    const env = lab.env;

    const checked = await runCli(['check-config', '--config', lab.file], env);
    expect(checked, checked.stderr).toMatchObject({ code: 0 });

    const run: Running = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    try {
      await waitFor(() => store.mail.countEmails('pgbox'), { what: 'the runner to store the three messages in PostgreSQL', until: (n) => n === 3, timeoutMs: 30_000 });
      expect((await store.runs.listRuns('pgbox', 10, 'success')).length).toBeGreaterThan(0);
      // Only TLS sessions: the runner's connections to the database are encrypted.
      const sessions = await pg.sql<{ ssl: boolean }>(`SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
        WHERE a.datname = 'runner' AND a.application_name LIKE 'mailsync:%' AND a.application_name <> 'mailsync:test-reader'`);
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.every((s) => s.ssl)).toBe(true);

      const queued = await callApi(`http://${listen}`, OPERATOR, 'POST', '/mailboxes/pgbox/emails', { to: 'someone@remote.example', subject: 'From PostgreSQL', text: 'hello' });
      expect(queued.status, await queued.clone().text()).toBe(202);
      const { email } = await queued.json() as { email: { id: number; messageId: string } };
      await waitFor(() => store.outgoing.get(email.id), { what: 'the queued email to be sent', until: (e) => e?.state === 'sent', timeoutMs: 30_000 });
      expect(smtp.count(email.messageId)).toBe(1);
      expect((await store.outgoing.history(email.id)).map((h) => h.state)).toEqual(['pending_send', 'sending', 'sent']);
      // The feed saw both, numbered in commit order.
      const kinds = (await store.feed.changesAfter(0, 100)).map((c) => c.kind);
      expect(kinds.filter((k) => k === 'email_stored')).toHaveLength(3);
      expect(kinds).toContain('outgoing_state');
    } finally {
      await run.stop();
    }
    expect(run.stderr()).not.toContain('not-needed-here');

    const report = await runCli(['store', 'check', '--config', lab.file], env);
    expect(report, report.stderr).toMatchObject({ code: 0 });
    expect(report.stdout).toMatch(new RegExp(`^postgresql://127\\.0\\.0\\.1:${pg.port}/runner: database ok; 3 emails checked`, 'm'));
  }, 90_000);

  it('refuses to start when the database cannot be reached, naming the setting and the host but not the password', async () => {
    const user = dovecot.addUser('pg-down');
    const down = `postgresql://mailsync:s3cret-pw@127.0.0.1:${await freePort()}/nowhere`;
    const lab = labFor(user, makeCert(certDir, 'smtp2').cert, { driver: 'postgresql', postgresql: { url: '${LAB_PG_URL}' } }, '127.0.0.1:0', down);
    const run = await runCli(['run', '--config', lab.file], lab.env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/store\.postgresql\.url postgresql:\/\/127\.0\.0\.1:\d+\/nowhere: cannot open the store/);
    expect(run.stderr + run.stdout).not.toContain('s3cret-pw');
  }, 60_000);
});
