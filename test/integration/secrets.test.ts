/**
 * No secret leaves the process. A real `mailsync run` (debug logging: where raw protocol errors
 * go) holds distinctive passwords and API tokens from the environment and from files, and meets a
 * failure on every path that handles them: IMAP and SMTP logins with wrong passwords, an untrusted
 * TLS certificate, API calls with a wrong token, Test & Enable, and config reloads with a bad
 * secret reference and with a secret written inline (accepted, then failing). Then every log line, API response, /metrics,
 * the status pages, the store's raw bytes (WAL and shared memory included) and what the process
 * printed when SIGKILLed are searched for each secret, plain and base64-encoded at any alignment
 * (SMTP AUTH PLAIN and IMAP AUTHENTICATE carry credentials in base64).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';

const tag = randomBytes(4).toString('hex');
/** Each secret is unlike anything else the process would print, so a hit can only be a leak. */
const SECRETS = {
  goodImap: `pw-ZX81-good-imap-${tag}`,
  wrongImap: `pw-ZX81-wrong-imap-file-${tag}`,
  serverImap: `pw-ZX81-dovecot-side-${tag}`,
  untrustedTls: `pw-ZX81-untrusted-tls-file-${tag}`,
  goodSmtp: `pw-ZX81-good-smtp-${tag}`,
  wrongSmtp: `pw-ZX81-wrong-smtp-${tag}`,
  serverSmtp: `pw-ZX81-smtp-server-side-${tag}`,
  operatorToken: `tok-ZX81-operator-env-${tag}`,
  adminToken: `tok-ZX81-admin-file-${tag}`,
  wrongToken: `tok-ZX81-wrong-${tag}`,
  inlineSecret: `pw-ZX81-inline-${tag}`,
};

/**
 * The forms a secret can take on the way out: itself, and its base64 at each of the three
 * alignments it can have inside a longer encoded string (the middle characters do not depend on
 * what surrounds it), plus the exact AUTH PLAIN response for its user.
 */
function forms(secret: string, user?: string): string[] {
  const out = [secret];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), Buffer.from(secret)]).toString('base64');
    // Drop the characters that mix in the padding before it and the unknown bytes after it.
    out.push(encoded.slice([0, 2, 3][shift], -4));
  }
  if (user) out.push(Buffer.from(`\0${user}\0${secret}`).toString('base64'));
  return out;
}

let dovecot: Dovecot;
let smtp: SmtpLab;
let certDir: string;
let run: Running | undefined;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-secrets-'));
});
afterAll(async () => {
  if (run) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await smtp?.stop();
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

describe('secrets', () => {
  it('appear in no log line, API response, metric, status page, store byte or crash output', async () => {
    const good = dovecot.addUser('sec-good', SECRETS.goodImap);
    const wrong = dovecot.addUser('sec-wrong', SECRETS.serverImap);
    const untrusted = dovecot.addUser('sec-tls', SECRETS.untrustedTls);
    dovecot.addUser('sec-sender-ok', SECRETS.goodSmtp);
    dovecot.addUser('sec-sender-bad', SECRETS.wrongSmtp);
    await dovecot.append(good, 'INBOX', [makeMessage(1), makeMessage(2)]);
    await dovecot.append(wrong, 'INBOX', [makeMessage(3)]);
    await dovecot.append(untrusted, 'INBOX', [makeMessage(4)]);
    const cert = makeCert(certDir, 'smtp');
    // The SMTP server knows sec-sender-bad by another password than mailsync's.
    smtp = await SmtpLab.start({ cert, users: { 'sec-sender-ok': SECRETS.goodSmtp, 'sec-sender-bad': SECRETS.serverSmtp }, dovecot });

    const lab = writeLabConfig(dovecot, {
      mailboxes: [
        { id: 'good', user: good.name, password: SECRETS.goodImap },
        { id: 'wrong', user: wrong.name },
        { id: 'untrusted', user: untrusted.name, profile: 'untrusted' },
        { id: 'sender-ok', user: 'sec-sender-ok', password: SECRETS.goodSmtp, incoming: false, outgoing: true },
        { id: 'sender-bad', user: 'sec-sender-bad', password: SECRETS.wrongSmtp, incoming: false, outgoing: true },
      ],
      profiles: [
        { ...labProfile(dovecot, 'lab'), outgoing: { host: 'localhost', port: smtp.port, security: 'starttls', caFile: cert.cert, sentCopy: 'none' } },
        // Dovecot's certificate, not trusted: no caFile.
        { ...labProfile(dovecot, 'untrusted'), incoming: { host: 'localhost', port: dovecot.imapPort, security: 'starttls' } },
      ],
      sync: { pollIntervalSeconds: 1, jitterRatio: 0, outgoing: { scanIntervalSeconds: 1 } },
    });
    // Two secrets come from files, as deployments mount them (with the trailing newline editors add).
    const files = { wrong: path.join(lab.dir, 'wrong-password'), untrusted: path.join(lab.dir, 'untrusted-password') };
    writeFileSync(files.wrong, `${SECRETS.wrongImap}\n`);
    writeFileSync(files.untrusted, `${SECRETS.untrustedTls}\n`);
    writeFileSync(path.join(lab.dir, 'admin-token'), `${SECRETS.adminToken}\n`);
    const doc = parse(readFileSync(lab.file, 'utf8')) as { mailboxes: { id: string; credentials: { password: unknown } }[]; api?: unknown };
    for (const m of doc.mailboxes) if (m.id in files) m.credentials.password = { file: files[m.id as keyof typeof files] };
    doc.api = { tokens: [{ name: 'oncall', role: 'operator', token: '${SEC_OPERATOR_TOKEN}' }, { name: 'admin', role: 'admin', token: { file: './admin-token' } }] };
    writeFileSync(lab.file, stringify(doc));
    const env = { ...lab.env, SEC_OPERATOR_TOKEN: SECRETS.operatorToken };

    run = startCli(['run', '--config', lab.file, '--log-level', 'debug'], env);
    const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
    const responses: string[] = [];
    const keep = async (res: Response) => {
      const body = await res.text();
      responses.push(`${res.status} ${JSON.stringify([...res.headers])} ${body}`);
      return { status: res.status, body };
    };

    // Every protocol's failure, and the successes next to them.
    const failed = (id: string) => (e: Record<string, unknown>) => e.mailbox === id && typeof e.msg === 'string' && e.msg.includes('cycle failed');
    await Promise.all([
      run.waitForLog(failed('wrong')),
      run.waitForLog(failed('untrusted')),
      run.waitForLog((e) => e.mailbox === 'good' && e.msg === 'incoming cycle finished'),
    ]);
    for (const from of ['sender-ok', 'sender-bad']) {
      const queued = await keep(await callApi(url, SECRETS.operatorToken, 'POST', `/mailboxes/${from}/emails`, { to: ['partner@remote.example'], subject: `from ${from}`, text: 'hello' }));
      expect(queued.status).toBe(202);
    }
    await run.waitForLog(failed('sender-bad'));
    await waitFor(() => smtp.deliveries.length, { what: 'the email of sender-ok to be delivered', until: (n) => n >= 1 });

    // The API with a wrong token, a token of the wrong kind, and the right ones.
    expect((await keep(await callApi(url, SECRETS.wrongToken, 'GET', '/mailboxes'))).status).toBe(401);
    expect((await keep(await fetch(`${url}/api/mailboxes`, { headers: { authorization: `Basic ${Buffer.from(`admin:${SECRETS.wrongToken}`).toString('base64')}` } }))).status).toBe(401);
    for (const id of ['wrong', 'untrusted']) {
      expect((await keep(await callApi(url, SECRETS.adminToken, 'POST', `/mailboxes/${id}/test-enable`, {}))).status).toBeLessThan(300);
    }
    await waitFor(async () => {
      const views = await Promise.all(['wrong', 'untrusted'].map(async (id) => (await (await callApi(url, SECRETS.operatorToken, 'GET', `/mailboxes/${id}`)).json()) as { testEnable: { state: string } }));
      return views.every((v) => v.testEnable.state === 'completed');
    }, { what: 'Test & Enable of both failing mailboxes to complete' });

    // Reloads: a reference to a secret that is not there, then a secret written inline (refused).
    const reloadWith = async (password: unknown) => {
      const bad = parse(readFileSync(lab.file, 'utf8')) as typeof doc;
      bad.mailboxes.find((m) => m.id === 'good')!.credentials.password = password;
      writeFileSync(lab.file, stringify(bad));
      return keep(await fetch(`${url}/-/reload`, { method: 'POST' }));
    };
    // Inline is accepted with a warning (docs/configuration.md): the warning must not quote it, nor
    // the failed login it then causes.
    expect((await reloadWith(SECRETS.inlineSecret)).status).toBe(200);
    await run.waitForLog(failed('good'));
    expect((await reloadWith({ file: path.join(lab.dir, 'missing-secret') })).status).toBe(500);
    expect((await reloadWith('${SEC_NOT_SET}')).status).toBe(500);
    run.child.kill('SIGHUP');
    await run.waitForLog((e) => typeof e.msg === 'string' && /reload/i.test(e.msg) && e.level === 50);

    // What anyone can read from outside.
    for (const route of ['/mailboxes', ...['good', 'wrong', 'untrusted', 'sender-ok', 'sender-bad'].flatMap((id) => [`/mailboxes/${id}`, `/mailboxes/${id}/emails`]), '/profiles/lab/alerts', '/profiles/untrusted/alerts']) {
      expect((await keep(await callApi(url, SECRETS.operatorToken, 'GET', route))).status).toBe(200);
    }
    for (const page of ['/', '/mailboxes', '/mailboxes/wrong', '/mailboxes/untrusted', '/mailboxes/sender-bad', '/mailboxes/good', '/metrics', '/-/ready']) {
      expect((await keep(await fetch(`${url}${page}`))).status).toBe(200);
    }

    // A crash: whatever it prints, and the store as it lies on disk (the WAL is not checkpointed).
    run.child.kill('SIGKILL');
    await run.exited;
    const output = run.stdout() + run.stderr();
    run = undefined;
    const db = path.join(lab.dir, 'mailsync.db');
    const storeBytes = ['', '-wal', '-shm'].filter((s) => existsSync(db + s)).map((s) => readFileSync(db + s).toString('latin1'));
    expect(storeBytes.length).toBeGreaterThanOrEqual(2);

    // The places searched are the real ones: they hold the failures met above.
    for (const code of ['credentials_rejected', 'secure_connection_failed', 'config reload rejected']) expect(output).toContain(code);
    expect(output).toMatch(/"mailbox":"sender-bad".*"code":"credentials_rejected"/);
    expect(responses.join('\n')).toContain('mailsync_mailbox');
    const places = { 'log output': output, 'API and page responses': responses.join('\n'), 'store bytes': storeBytes.join('\n') };
    const users: Partial<Record<keyof typeof SECRETS, string>> = {
      goodImap: good.name, wrongImap: wrong.name, untrustedTls: untrusted.name, goodSmtp: 'sec-sender-ok', wrongSmtp: 'sec-sender-bad',
    };
    // The search itself finds a secret inside a longer base64 text at each of the three alignments.
    for (const lead of ['', 'a', 'ab']) {
      expect(forms('pw-check-0123456789').some((f) => Buffer.from(`${lead}user\0pw-check-0123456789\0`).toString('base64').includes(f))).toBe(true);
    }
    const hits: string[] = [];
    for (const [name, secret] of Object.entries(SECRETS) as [keyof typeof SECRETS, string][]) {
      for (const form of forms(secret, users[name])) {
        for (const [where, text] of Object.entries(places)) if (text.includes(form)) hits.push(`${name} (${form === secret ? 'plain' : `base64 ${form}`}) in ${where}`);
      }
    }
    expect(hits).toEqual([]);
  }, 90_000);
});
