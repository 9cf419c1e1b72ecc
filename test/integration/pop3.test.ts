import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { Pop3Session } from '../../exporter/src/incoming/pop3/client.js';
import { Secret } from '../../exporter/src/config/secret.js';
import { createLogger } from '../../exporter/src/log.js';
import { openStore } from '../../exporter/src/store/index.js';
import { runCli, startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig, type LabOptions } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { openLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';

let dovecot: Dovecot;
beforeAll(async () => {
  // XOAUTH2 too: with a passwd-file passdb, Dovecot 2.3 checks the bearer token as the password,
  // which tests our SASL XOAUTH2 framing on a real server without a token service.
  dovecot = await Dovecot.start({ pop3: true, extraConfig: 'auth_mechanisms = plain login xoauth2\n' });
});
afterAll(async () => {
  await dovecot?.stop();
});

const ORG = { allowNonTlsServers: false, allowCredentialsOverInsecureChannel: false };
const TIMEOUTS = { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 30 };

/** The lab's POP3 profile: implicit TLS (995-style) by default, or STLS on the plain listener. */
function pop3Profile(security: 'tls' | 'starttls' = 'tls', extra: Record<string, unknown> = {}) {
  return labProfile(dovecot, 'pop3', {
    incoming: { protocol: 'pop3', host: 'localhost', port: security === 'tls' ? dovecot.pop3sPort : dovecot.pop3Port, security, caFile: dovecot.cert.cert, ...extra },
  });
}

const lab = (options: LabOptions) => openLab(dovecot, options);

function success(outcome: CycleOutcome) {
  if (outcome.result === 'failure') throw new Error(`cycle failed: ${outcome.code} ${outcome.message}`);
  return outcome;
}

describe('POP3 incoming against Dovecot', () => {
  it('stores a first sync once, then only new mail, leaving everything on the server', async () => {
    const user = dovecot.addUser('pop-first');
    dovecot.seedMaildir(user.name, Array.from({ length: 120 }, (_, i) => makeMessage(i)));
    const l = await lab({ mailboxes: [{ id: 'pf', user: user.name, profile: 'pop3' }], profiles: [pop3Profile()], sync: { batchSize: 50 } });
    try {
      expect(success(await l.cycle('pf'))).toMatchObject({ itemsProcessed: 120, itemsFailed: 0 });
      expect(await l.store.mail.countEmails('pf')).toBe(120);
      expect(success(await l.cycle('pf')).folders[0]).toMatchObject({ unchanged: true, fetched: 0 });

      await dovecot.append(user, 'INBOX', [makeMessage(500), makeMessage(501)]);
      expect(success(await l.cycle('pf'))).toMatchObject({ itemsProcessed: 2 });
      expect(await l.store.mail.countEmails('pf')).toBe(122);
      expect((await l.store.pop3.seenUidls('pf')).size).toBe(122);
      // Never DELE without incoming.pop3.deleteAfterSync: the maildrop still holds everything.
      expect(dovecot.doveadm(['mailbox', 'status', '-u', user.name, 'messages', 'INBOX'])).toMatch(/messages=122\b/);
    } finally {
      await l.close();
    }
  });

  it('applies the incoming filter: every email stored, only known senders published to the feed', async () => {
    const user = dovecot.addUser('pop-filter');
    // makeMessage(n) comes from sender{n % 17}@lab.example.
    await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2), makeMessage(18)]);
    const l = await lab({
      mailboxes: [{ id: 'pk', user: user.name, profile: 'pop3', incomingFilter: { filter: 'known-senders', knownSenders: ['sender1@lab.example'] } }],
      profiles: [pop3Profile()],
    });
    try {
      expect(success(await l.cycle('pk'))).toMatchObject({ itemsProcessed: 3, itemsFailed: 1 });
      expect(await l.store.mail.countEmails('pk')).toBe(3);
      const published = (await l.store.feed.changesAfter(0, 100)).filter((c) => c.mailboxId === 'pk' && c.kind === 'email_stored');
      expect(published).toHaveLength(2);
      expect((await l.store.mail.listItemFailures('pk')).map((f) => f.code)).toEqual(['no_recipient_match']);
    } finally {
      await l.close();
    }
  });

  it('upgrades with STLS on the plain port and keeps each message byte for byte (dot-stuffed lines too)', async () => {
    const user = dovecot.addUser('pop-stls');
    const dotted = Buffer.from('Message-ID: <dots@lab.example>\r\nFrom: a@lab.example\r\nTo: b@lab.example\r\nSubject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n');
    await dovecot.append(user, 'INBOX', [dotted, makeMessage(1, { attachmentBytes: 300_000 })]);
    const l = await lab({ mailboxes: [{ id: 'ps', user: user.name, profile: 'pop3' }], profiles: [pop3Profile('starttls')] });
    try {
      expect(success(await l.cycle('ps'))).toMatchObject({ itemsProcessed: 2 });
      const [first] = await l.store.mail.listEmails('ps', 1);
      expect((await l.store.mail.getRawEmail(first!.id))?.equals(dotted)).toBe(true);
    } finally {
      await l.close();
    }
  });

  it('deletes only when deleteAfterSync asks, after the emails are stored', async () => {
    const user = dovecot.addUser('pop-dele');
    await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2), makeMessage(3)]);
    const l = await lab({ mailboxes: [{ id: 'pd', user: user.name, profile: 'pop3' }], profiles: [pop3Profile('tls', { pop3: { deleteAfterSync: true } })] });
    try {
      expect(success(await l.cycle('pd'))).toMatchObject({ itemsProcessed: 3 });
      expect(await l.store.mail.countEmails('pd')).toBe(3);
      expect(dovecot.doveadm(['mailbox', 'status', '-u', user.name, 'messages', 'INBOX'])).toMatch(/messages=0\b/);
      success(await l.cycle('pd'));
      expect((await l.store.pop3.seenUidls('pd')).size).toBe(0);
    } finally {
      await l.close();
    }
  });

  it('a server that renumbers its UIDLs (new UIDVALIDITY) re-reads the maildrop without a duplicate, and forgets the old UIDLs', async () => {
    const user = dovecot.addUser('pop-reset');
    await dovecot.append(user, 'INBOX', Array.from({ length: 5 }, (_, i) => makeMessage(i)));
    const l = await lab({ mailboxes: [{ id: 'pr', user: user.name, profile: 'pop3' }], profiles: [pop3Profile()] });
    try {
      success(await l.cycle('pr'));
      const before = [...(await l.store.pop3.seenUidls('pr')).keys()];
      // Dovecot's shipped pop3_uidl_format (%08Xu%08Xv) includes UIDVALIDITY: changing it renumbers every UIDL.
      dovecot.doveadm(['mailbox', 'update', '-u', user.name, '--uid-validity', '4242', 'INBOX']);
      const again = success(await l.cycle('pr'));
      expect(again.folders[0]).toMatchObject({ fetched: 5, inserted: 0, alreadyStored: 5 });
      expect(await l.store.mail.countEmails('pr')).toBe(5);
      const after = [...(await l.store.pop3.seenUidls('pr')).keys()];
      expect(after).toHaveLength(5);
      expect(after.filter((u) => before.includes(u))).toEqual([]);
    } finally {
      await l.close();
    }
  });

  it('a maildrop locked by another session fails the cycle as transient server_unavailable ([IN-USE])', async () => {
    const user = dovecot.addUser('pop-inuse');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const holder = await Pop3Session.open(
      { host: 'localhost', port: dovecot.pop3sPort, security: 'tls', caFile: dovecot.cert.cert, timeouts: TIMEOUTS },
      { user: user.name, password: new Secret(user.password, 'inline') }, ORG, createLogger('silent'),
    );
    const l = await lab({ mailboxes: [{ id: 'pi', user: user.name, profile: 'pop3' }], profiles: [pop3Profile()] });
    try {
      const outcome = await l.cycle('pi');
      expect(outcome).toMatchObject({ result: 'failure', code: 'server_unavailable' });
      expect(outcome.result === 'failure' && outcome.message).toMatch(/^POP3 PASS: server said -ERR \[IN-USE\]/);
      await holder.close();
      expect(success(await l.cycle('pi'))).toMatchObject({ itemsProcessed: 1 });
    } finally {
      await holder.close();
      await l.close();
    }
  });

  it('a wrong password is credentials_rejected ([AUTH]); Test & Enable names the step and STATs on success', async () => {
    const user = dovecot.addUser('pop-auth');
    const l = await lab({
      mailboxes: [{ id: 'bad', user: user.name, address: 'bad@lab.example', profile: 'pop3', password: 'wrong' }, { id: 'good', user: user.name, profile: 'pop3' }],
      profiles: [pop3Profile()],
    });
    try {
      const outcome = await l.cycle('bad');
      expect(outcome).toMatchObject({ result: 'failure', code: 'credentials_rejected' });
      expect(outcome.result === 'failure' && outcome.message).toMatch(/^POP3 PASS: server said -ERR \[AUTH\]/);
      expect(JSON.stringify(outcome)).not.toContain('wrong');
      const good = await l.testEnable('good');
      expect(good.checks[0]).toMatchObject({ ok: true });
      expect(good.ownership).toBe('unsupported');
      expect(good.checks[0]?.steps).toContain('maildrop has 0 messages');
    } finally {
      await l.close();
    }
  });
});

describe('POP3 with an OAuth2 access token (AUTH XOAUTH2)', () => {
  const endpoint = () => ({ host: 'localhost', port: dovecot.pop3sPort, security: 'tls' as const, caFile: dovecot.cert.cert, timeouts: TIMEOUTS });

  it('logs in with SASL XOAUTH2 and is refused as credentials_rejected with a bad token', async () => {
    const user = dovecot.addUser('pop-token', 'token-value');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const session = await Pop3Session.open(endpoint(), { user: user.name, accessToken: new Secret('token-value', 'inline') }, ORG, createLogger('silent'));
    try {
      expect(await session.stat()).toMatchObject({ messages: 1 });
    } finally {
      await session.close();
    }
    expect(readFileSync(dovecot.logFile, 'utf8')).toMatch(/pop3-login: Info: Login: user=<pop-token>, method=XOAUTH2/);
    const refused = await Pop3Session.open(endpoint(), { user: user.name, accessToken: new Secret('expired-token', 'inline') }, ORG, createLogger('silent'))
      .then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({ mailsyncCode: 'credentials_rejected', command: 'AUTH' });
    expect(String((refused as Error).message)).not.toContain('expired-token');
  });
});

describe('POP3 against a server without STLS', () => {
  let plain: Dovecot;
  beforeAll(async () => {
    // A real plain-only POP3 server: this Dovecot offers no STLS on POP3 and would accept a password in clear.
    plain = await Dovecot.start({ pop3: true, extraConfig: 'protocol pop3 {\n  ssl = no\n}\n' });
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it('fails with the secure-connection code and never sends the password in clear', async () => {
    const user = plain.addUser('pop-plain');
    const profile = labProfile(plain, 'pop3', { incoming: { protocol: 'pop3', host: 'localhost', port: plain.pop3Port, security: 'starttls', caFile: plain.cert.cert } });
    const l = await openLab(plain, { mailboxes: [{ id: 'pp', user: user.name, profile: 'pop3' }], profiles: [profile] });
    try {
      const outcome = await l.cycle('pp');
      expect(outcome).toMatchObject({ result: 'failure', code: 'secure_connection_failed' });
      expect(outcome.result === 'failure' && outcome.message).toContain('does not offer STLS');
      expect(readFileSync(plain.logFile, 'utf8')).not.toMatch(/pop3-login: (Login|Aborted login|Disconnected).*user=<pop-plain>/);
    } finally {
      await l.close();
    }
  });
});

describe('the mailsync process with a POP3 mailbox', () => {
  it('survives SIGKILL in the middle of a sync: the next run stores every message exactly once', async () => {
    const TOTAL = 1_200;
    const user = dovecot.addUser('pop-crash');
    dovecot.seedMaildir(user.name, Array.from({ length: TOTAL }, (_, i) => makeMessage(i, { attachmentBytes: 4_000 })));
    const config = writeLabConfig(dovecot, { mailboxes: [{ id: 'pc', user: user.name, profile: 'pop3' }], profiles: [pop3Profile()], sync: { batchSize: 10 } });
    const dbPath = path.join(config.dir, 'mailsync.db');
    const args = ['sync-once', '--config', config.file, '--mailbox', 'pc', '--log-level', 'debug'];
    const first = startCli(args, config.env);
    await first.waitForLog((e) => e.msg === 'batch committed' && Number(e.committed) >= 300);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const counts = async () => {
      const store = await openStore({ path: dbPath });
      try {
        return { emails: await store.mail.countEmails('pc'), uidls: (await store.pop3.seenUidls('pc')).size };
      } finally {
        await store.close();
      }
    };
    const midway = await counts();
    expect(midway.emails).toBeGreaterThanOrEqual(300);
    expect(midway.emails).toBeLessThan(TOTAL);
    // Whatever was committed is whole: one email per UIDL marked seen.
    expect(midway.uidls).toBe(midway.emails);

    const second = await runCli(args, config.env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ result: 'success', itemsProcessed: TOTAL - midway.emails });
    expect(await counts()).toEqual({ emails: TOTAL, uidls: TOTAL });
  });
});

