import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { Dovecot } from '../harness/dovecot.js';
import { labProfile, type LabOptions } from '../harness/config.js';
import { openLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

const lab = (options: LabOptions) => openLab(dovecot, options);

function success(outcome: CycleOutcome) {
  if (outcome.result === 'failure') throw new Error(`cycle failed: ${outcome.code} ${outcome.message}`);
  return outcome;
}

describe('incoming sync against Dovecot', () => {
  it('stores every message of a first sync once, in batches, then only new mail', async () => {
    const user = dovecot.addUser('first');
    dovecot.seedMaildir(user.name, Array.from({ length: 230 }, (_, i) => makeMessage(i)));
    const l = await lab({ mailboxes: [{ id: 'first', user: user.name }], sync: { batchSize: 50 } });
    try {
      const first = success(await l.cycle('first'));
      expect(first).toMatchObject({ result: 'success', itemsProcessed: 230, itemsFailed: 0 });
      expect(await l.store.mail.countEmails('first')).toBe(230);
      expect((await l.store.mail.listEmails('first', 1))[0]).toMatchObject({ subject: 'Test message 0', from: '"Sender 0" <sender0@lab.example>', to: 'alice@lab.example' });

      const idle = success(await l.cycle('first'));
      expect(idle.folders[0]).toMatchObject({ unchanged: true, fetched: 0 });

      await dovecot.append(user, 'INBOX', [makeMessage(1000), makeMessage(1001)]);
      const next = success(await l.cycle('first'));
      expect(next).toMatchObject({ itemsProcessed: 2 });
      expect(await l.store.mail.countEmails('first')).toBe(232);
      expect((await l.store.mail.getCursor('first', 'INBOX'))?.lastUid).toBe(232);
      expect((await l.store.runs.listRuns('first')).map((r) => r.result)).toEqual(['success', 'success', 'success']);
    } finally {
      await l.close();
    }
  });

  it('never changes flags on the server (folders are opened read-only)', async () => {
    const user = dovecot.addUser('readonly');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const l = await lab({ mailboxes: [{ id: 'ro', user: user.name }] });
    try {
      success(await l.cycle('ro'));
      const client = await dovecot.client(user);
      const lock = await client.getMailboxLock('INBOX');
      const flags = [];
      // \Recent is a per-session flag the server reports to whoever looks first; \Seen is what a sync must not set.
      for await (const m of client.fetch('1:*', { flags: true })) flags.push([...(m.flags ?? [])].filter((f) => f !== '\\Recent'));
      lock.release();
      await client.logout();
      expect(flags).toEqual([[]]);
    } finally {
      await l.close();
    }
  });

  it('keeps one email for the same message in two folders, and re-reads a recreated folder without duplicates', async () => {
    const user = dovecot.addUser('folders');
    const shared = makeMessage(7);
    await dovecot.append(user, 'INBOX', [shared, makeMessage(8)]);
    await dovecot.append(user, 'Work', [shared]);
    const l = await lab({ mailboxes: [{ id: 'folders', user: user.name, folders: ['INBOX', 'Work'] }] });
    try {
      const first = success(await l.cycle('folders'));
      expect(first.folders.map((f) => [f.folder, f.fetched, f.inserted, f.alreadyStored])).toEqual([['INBOX', 2, 2, 0], ['Work', 1, 0, 1]]);
      expect(await l.store.mail.countEmails('folders')).toBe(2);
      const before = (await l.store.mail.getCursor('folders', 'Work'))!.uidvalidity;

      // Recreate the folder: Dovecot gives it a new UIDVALIDITY. No pause needed: the value is time
      // based, but Dovecot keeps the last one it gave in the user's dovecot-uidvalidity file and
      // gives the next one above it, so a folder recreated within the same second still gets a new one.
      const client = await dovecot.client(user);
      await client.mailboxDelete('Work');
      await client.logout();
      await dovecot.append(user, 'Work', [shared, makeMessage(9)]);

      const after = success(await l.cycle('folders'));
      const work = after.folders.find((f) => f.folder === 'Work')!;
      expect(work).toMatchObject({ uidValidityChanged: true, fetched: 2, inserted: 1, alreadyStored: 1 });
      expect(work.uidValidity).not.toBe(before);
      expect(await l.store.mail.countEmails('folders')).toBe(3);
    } finally {
      await l.close();
    }
  });

  it('keeps malformed messages with an item failure and skips oversized ones without failing the cycle', async () => {
    const user = dovecot.addUser('items');
    await dovecot.append(user, 'INBOX', [
      makeMessage(1),
      Buffer.from('this line is not a header\r\nSubject: broken\r\n\r\nbody\r\n'),
      makeMessage(3, { attachmentBytes: 40_000 }),
      makeMessage(4),
    ]);
    const l = await lab({ mailboxes: [{ id: 'items', user: user.name }], sync: { maxMessageBytes: 20_000 } });
    try {
      const out = success(await l.cycle('items'));
      expect(out).toMatchObject({ itemsProcessed: 4, itemsFailed: 2 });
      expect(out.folders[0]?.failedByCode).toEqual({ item_parse_failed: 1, item_too_large: 1 });
      expect(await l.store.mail.countEmails('items')).toBe(3);
      const failures = (await l.store.mail.listItemFailures('items')).sort((a, b) => a.uid - b.uid);
      expect(failures.map((f) => [f.uid, f.code, f.emailId !== null])).toEqual([[2, 'item_parse_failed', true], [3, 'item_too_large', false]]);
      expect(failures[1]?.detail).toMatch(/^message is \d+ bytes; the limit is 20000$/);
      expect((await l.store.mail.getCursor('items', 'INBOX'))?.lastUid).toBe(4);
    } finally {
      await l.close();
    }
  });

  it('starts a new mailbox at a configured date when asked', async () => {
    const user = dovecot.addUser('since');
    const client = await dovecot.client(user);
    await client.append('INBOX', makeMessage(1), [], new Date('2025-01-10T10:00:00Z'));
    await client.append('INBOX', makeMessage(2), [], new Date('2026-03-10T10:00:00Z'));
    await client.logout();
    const l = await lab({ mailboxes: [{ id: 'since', user: user.name, startFrom: '2026-01-01' }] });
    try {
      expect(success(await l.cycle('since'))).toMatchObject({ itemsProcessed: 1 });
      expect((await l.store.mail.listEmails('since')).map((e) => e.subject)).toEqual(['Test message 2']);
    } finally {
      await l.close();
    }
  });

  describe('channels and credentials', () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['implicit TLS', { incoming: { host: 'localhost', port: 0, security: 'tls' } }, {}],
      ['STARTTLS', {}, {}],
      ['plaintext when both insecure settings allow it', { incoming: { host: '127.0.0.1', port: 0, security: 'none' } },
        { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true }],
    ];
    it.each(cases)('syncs over %s', async (_name, profileOverrides, organization) => {
      const user = dovecot.addUser(`chan${Math.random().toString(36).slice(2, 8)}`);
      await dovecot.append(user, 'INBOX', [makeMessage(1)]);
      const incoming = profileOverrides.incoming as Record<string, unknown> | undefined;
      const port = incoming?.security === 'tls' ? dovecot.imapsPort : dovecot.imapPort;
      const base = labProfile(dovecot, 'chan');
      const profile = { ...base, ...profileOverrides, incoming: { ...(base.incoming as object), ...incoming, port } };
      const l = await lab({ mailboxes: [{ id: 'm', user: user.name, profile: 'chan' }], profiles: [profile], organization });
      try {
        expect(success(await l.cycle('m'))).toMatchObject({ itemsProcessed: 1 });
      } finally {
        await l.close();
      }
    });

    it('refuses a plaintext server before sending credentials unless allowed', async () => {
      const user = dovecot.addUser('plainrefused');
      const profile = labProfile(dovecot, 'plain', { incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' } });
      const onlyServer = await lab({ mailboxes: [{ id: 'm', user: user.name, profile: 'plain' }], profiles: [profile], organization: { allowNonTlsServers: true } });
      const neither = await lab({ mailboxes: [{ id: 'm', user: user.name, profile: 'plain' }], profiles: [profile] });
      try {
        expect(await neither.cycle('m')).toMatchObject({ result: 'failure', code: 'insecure_channel_refused', message: expect.stringContaining('allowNonTlsServers is off') });
        expect(await onlyServer.cycle('m')).toMatchObject({ result: 'failure', code: 'insecure_channel_refused', message: expect.stringContaining('allowCredentialsOverInsecureChannel is off') });
        expect(await neither.store.runs.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', lastErrorCode: 'insecure_channel_refused', consecutiveFailures: 1 });
      } finally {
        await onlyServer.close();
        await neither.close();
      }
    });

    it('rejects a certificate it was not told to trust', async () => {
      const user = dovecot.addUser('untrusted');
      const profile = labProfile(dovecot, 'nocafile', { incoming: { host: 'localhost', port: dovecot.imapsPort, security: 'tls' } });
      const l = await lab({ mailboxes: [{ id: 'm', user: user.name, profile: 'nocafile' }], profiles: [profile] });
      try {
        expect(await l.cycle('m')).toMatchObject({ result: 'failure', code: 'secure_connection_failed' });
      } finally {
        await l.close();
      }
    });

    it('logs in with profile credentials and through impersonation', async () => {
      const shared = 'shared-profile-pw';
      const a = dovecot.addUser('profa', shared);
      // The service account acts as the mailbox address, so this Dovecot user is named by it.
      const b = dovecot.addUser('imper@lab.example');
      await dovecot.append(a, 'INBOX', [makeMessage(1)]);
      await dovecot.append(b, 'INBOX', [makeMessage(2), makeMessage(3)]);
      process.env.LAB_SHARED_PW = shared;
      process.env.LAB_MASTER_PW = dovecot.master.password;
      const profiles = [
        labProfile(dovecot, 'byprofile', { auth: { mode: 'profile', credentials: { username: '{localpart}', password: '${LAB_SHARED_PW}' } } }),
        labProfile(dovecot, 'bymaster', { auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${LAB_MASTER_PW}' } } }),
      ];
      const l = await lab({
        mailboxes: [{ id: 'p', user: a.name, profile: 'byprofile' }, { id: 'i', user: b.name, profile: 'bymaster' }],
        profiles,
      });
      try {
        expect(success(await l.cycle('p'))).toMatchObject({ itemsProcessed: 1 });
        expect(success(await l.cycle('i'))).toMatchObject({ itemsProcessed: 2 });
        expect(await l.store.mail.countEmails('i')).toBe(2);
      } finally {
        await l.close();
      }
    });

    it('records a rejected password as credentials_rejected', async () => {
      const user = dovecot.addUser('wrongpw');
      const l = await lab({ mailboxes: [{ id: 'm', user: user.name, password: 'not-the-password' }] });
      try {
        const out = await l.cycle('m');
        expect(out).toMatchObject({ result: 'failure', code: 'credentials_rejected' });
        expect(JSON.stringify(await l.store.runs.listRuns('m'))).not.toContain('not-the-password');
      } finally {
        await l.close();
      }
    });
  });

  it('keeps a session past the socket timeout: the next cycle reuses it instead of logging in again', async () => {
    const user = dovecot.addUser('parked');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const l = await lab({
      mailboxes: [{ id: 'p', user: user.name }],
      profiles: [labProfile(dovecot, 'lab', { timeouts: { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 1 } })],
    });
    // A quiet client with the same 1 s socket timeout: imapflow closes it, which shows that the
    // kept session has waited longer than its timeout too (without a fixed sleep).
    const quiet = new ImapFlow({
      host: '127.0.0.1', port: dovecot.imapPort, secure: false, doSTARTTLS: false, auth: { user: user.name, pass: user.password },
      logger: false, disableAutoIdle: true, socketTimeout: 1_000,
    });
    quiet.on('error', () => undefined);
    try {
      success(await l.cycle('p'));
      await quiet.connect();
      await new Promise((resolve) => quiet.once('close', resolve));
      await dovecot.append(user, 'INBOX', [makeMessage(2)]);
      expect(success(await l.cycle('p'))).toMatchObject({ itemsProcessed: 1 });
      // Logins of the user: the first cycle's, the quiet client's, and dovecot.append's two; none for the second cycle.
      const logins = readFileSync(dovecot.logFile, 'utf8').split('\n').filter((line) => line.includes('Login: user=<parked>'));
      expect(logins).toHaveLength(4);
    } finally {
      quiet.close();
      await l.close();
    }
  });

  it('reuses the kept session for the next cycle and reconnects when the server dropped it', async () => {
    const user = dovecot.addUser('reuse');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const l = await lab({ mailboxes: [{ id: 'r', user: user.name }] });
    try {
      success(await l.cycle('r'));
      expect(l.sessions.idleCount).toBe(1);
      // Kill the server side of the kept connection: the next cycle must still succeed.
      dovecot.doveadm(['kick', user.name]);
      await waitFor(() => dovecot.doveadm(['who', user.name]), { what: `${user.name}'s session to end on the server`, until: (who) => !who.split('\n').some((l) => l.startsWith(`${user.name} `)) });
      await dovecot.append(user, 'INBOX', [makeMessage(2)]);
      expect(success(await l.cycle('r'))).toMatchObject({ itemsProcessed: 1 });
      expect(l.sessions.openCount('lab')).toBe(1);
    } finally {
      await l.close();
    }
  });
});
