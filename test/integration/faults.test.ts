import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { mailboxView, OWNERSHIP_UNSUPPORTED } from '../../exporter/src/mailboxes/view.js';
import { labProfile, type LabOptions } from '../harness/config.js';
import { Dnsmasq } from '../harness/dnsmasq.js';
import { Dovecot } from '../harness/dovecot.js';
import { FaultProxy } from '../harness/fault-proxy.js';
import { manualClock, openLab, type Lab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { ScriptedImap, type ImapScript } from '../harness/responder.js';
import { makeCert } from '../harness/tls.js';
import { seedFailure } from '../support/seed.js';

/**
 * The fault matrix: each documented failure produced by a real server (or, for what a local
 * server cannot say, a scripted responder on a real TLS socket replaying a provider's exact words),
 * asserting code, class, scope and what the lifecycle did with the mailbox.
 */
let dovecot: Dovecot;
let dns: Dnsmasq;
let autoconfig: Server;
let autoconfigUrl: string;
const OWNER_ENTRY = '/private/vendor/vendor.mailsync/owner';

beforeAll(async () => {
  dovecot = await Dovecot.start();
  dns = await Dnsmasq.start([{ name: '_imaps._tcp.auto.test', target: 'localhost', port: dovecot.imapsPort }]);
  // Autoconfig documents for cfg.test only; every other domain gets a 404.
  autoconfig = createServer((req, res) => {
    if (req.url?.startsWith('/cfg.test/config-v1.1.xml')) {
      res.setHeader('content-type', 'text/xml');
      res.end(`<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="cfg.test"><domain>cfg.test</domain>
        <incomingServer type="pop3"><hostname>pop.cfg.test</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
        <incomingServer type="imap"><hostname>localhost</hostname><port>${dovecot.imapPort}</port><socketType>STARTTLS</socketType>
        <username>%EMAILADDRESS%</username></incomingServer></emailProvider></clientConfig>`);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => autoconfig.listen(0, '127.0.0.1', resolve));
  autoconfigUrl = `http://127.0.0.1:${(autoconfig.address() as AddressInfo).port}/{domain}/config-v1.1.xml?emailaddress={address}`;
});
afterAll(async () => {
  await dns?.stop();
  await new Promise((resolve) => autoconfig?.close(resolve));
  await dovecot?.stop();
});

function failure(outcome: CycleOutcome | undefined) {
  if (!outcome || outcome.result !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

async function withLab<T>(options: LabOptions, body: (lab: Lab) => Promise<T>, clock?: ReturnType<typeof manualClock>): Promise<T> {
  const lab = await openLab(dovecot, options, clock);
  try {
    return await body(lab);
  } finally {
    await lab.close();
  }
}

const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 8)}`;

describe('credentials', () => {
  it('a wrong mailbox password is credentials_rejected for the mailbox, and disables it at once', async () => {
    const user = dovecot.addUser(unique('badpw'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name, password: 'wrong' }] }, async (lab) => {
      const { outcome, nextDueAt } = await lab.turn('m');
      expect(failure(outcome)).toMatchObject({ code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', disabled: true });
      // Dovecot's words once, without the IMAP tag or imapflow's "Command failed".
      expect(failure(outcome).message).toBe('IMAP AUTHENTICATE PLAIN: server said NO [AUTHENTICATIONFAILED] Authentication failed.');
      expect(nextDueAt).toBeNull();
      expect(await lab.state('m')).toMatchObject({ disabled: true, disabledCode: 'credentials_rejected', disabledBy: 'system' });
      expect(await lab.store.lifecycle.alerts('mailbox', 'm')).toMatchObject([{ code: 'credentials_rejected', count: 1 }]);
      expect(await lab.store.lifecycle.alerts('profile', 'lab')).toEqual([]);
      // Disabled: the next turn does not contact the server at all.
      expect(await lab.turn('m')).toEqual({ nextDueAt: null });
      expect(await lab.store.runs.listRuns('m')).toHaveLength(1);
    });
  });

  it('a wrong master password (impersonation) is credentials_rejected for the server, recorded on the profile', async () => {
    const user = dovecot.addUser(`${unique('imp')}@lab.example`);
    process.env.LAB_BAD_MASTER_PW = 'not-the-master-password';
    const profile = labProfile(dovecot, 'trusted', { auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${LAB_BAD_MASTER_PW}' } } });
    await withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'trusted' }], profiles: [profile] }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'credentials_rejected', class: 'permanent', scope: 'server', disabled: true });
      expect(await lab.store.lifecycle.alerts('profile', 'trusted')).toMatchObject([{ code: 'credentials_rejected', mailboxId: 'm' }]);
    });
  });
});

describe('TLS', () => {
  const tlsCase = async (server: Dovecot, caFile: string | undefined, host = 'localhost') => {
    const user = server.addUser(unique('tls'));
    const profile = labProfile(server, 'tlsp', { incoming: { host, port: server.imapsPort, security: 'tls', ...(caFile ? { caFile } : {}) } });
    return withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'tlsp' }], profiles: [profile] }, async (lab) => {
      const f = failure((await lab.turn('m')).outcome);
      expect(await lab.state('m')).toMatchObject({ disabled: true, disabledCode: 'secure_connection_failed' });
      return f;
    });
  };

  it('an expired certificate is secure_connection_failed', async () => {
    const expired = await Dovecot.start({ cert: { expired: true } });
    try {
      const f = await tlsCase(expired, expired.cert.cert);
      expect(f).toMatchObject({ code: 'secure_connection_failed', class: 'permanent', scope: 'server', message: expect.stringMatching(/expired/i) });
    } finally {
      await expired.stop();
    }
  });

  it('a certificate for another name is secure_connection_failed', async () => {
    const wrongName = await Dovecot.start({ cert: { names: ['mail.elsewhere.example'] } });
    try {
      const f = await tlsCase(wrongName, wrongName.cert.cert);
      expect(f).toMatchObject({ code: 'secure_connection_failed', scope: 'server', message: expect.stringMatching(/altnames|does not match/i) });
    } finally {
      await wrongName.stop();
    }
  });

  it('an untrusted self-signed certificate is secure_connection_failed', async () => {
    const f = await tlsCase(dovecot, undefined);
    expect(f).toMatchObject({ code: 'secure_connection_failed', message: expect.stringMatching(/self.signed/i) });
  });

  it('a plaintext server without the organization\'s consent is insecure_channel_refused before any credential is sent', async () => {
    const user = dovecot.addUser(unique('plain'));
    const profile = labProfile(dovecot, 'plain', { incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' } });
    await withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'plain' }], profiles: [profile] }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'insecure_channel_refused', class: 'permanent', scope: 'server', disabled: true });
    });
  });
});

describe('network', () => {
  it('a closed port is connect_failed: retried 10 times, 5 minutes apart, then disabled', async () => {
    const user = dovecot.addUser(unique('closed'));
    const port = await freePort();
    const profile = labProfile(dovecot, 'closed', { incoming: { host: '127.0.0.1', port, security: 'tls' } });
    const clock = manualClock();
    await withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'closed' }], profiles: [profile] }, async (lab) => {
      const attempts: number[] = [];
      for (let i = 1; i <= 11; i++) {
        const { outcome, nextDueAt } = await lab.turn('m');
        const f = failure(outcome);
        attempts.push(clock.now());
        expect(f).toMatchObject({ code: 'connect_failed', class: 'transient', scope: 'server', consecutiveFailures: i });
        if (i < 11) {
          expect(f.disabled).toBe(false);
          expect(nextDueAt).toBe(clock.now() + 300_000);
          // Before the retry is due the gate does not contact the server.
          clock.set(clock.now() + 299_000);
          expect(await lab.turn('m')).toEqual({ nextDueAt: attempts[i - 1]! + 300_000 });
          clock.set(nextDueAt as number);
        } else {
          expect(f.disabled).toBe(true);
          expect(nextDueAt).toBeNull();
        }
      }
      expect(await lab.state('m')).toMatchObject({ disabled: true, disabledCode: 'connect_failed', consecutiveFailures: 11 });
      expect(await lab.store.runs.listRuns('m', 100)).toHaveLength(11);
      expect(await lab.store.lifecycle.alerts('mailbox', 'm')).toMatchObject([{ code: 'connect_failed', count: 11 }]);
    }, clock);
  });

  it('a success resets the retry budget', async () => {
    const user = dovecot.addUser(unique('reset'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name }] }, async (lab) => {
      await seedFailure(lab.store, {
    mailboxId: 'm', profileId: 'lab', direction: 'incoming', startedAt: 1, at: 2, code: 'connect_failed', message: 'x',
    class: 'transient', scope: 'server', disable: false, nextAttemptAt: 3,
  });
      expect((await lab.state('m'))?.consecutiveFailures).toBe(1);
      expect((await lab.turn('m')).outcome?.result).toBe('success');
      expect(await lab.state('m')).toMatchObject({ consecutiveFailures: 0, nextAttemptAt: null, disabled: false });
    });
  });

  it('a connection dropped mid-fetch is server_unavailable, transient; what was committed stays', async () => {
    const user = dovecot.addUser(unique('drop'));
    dovecot.seedMaildir(user.name, Array.from({ length: 40 }, (_, i) => makeMessage(i, { attachmentBytes: 20_000 })));
    const proxy = await FaultProxy.start(dovecot.imapsPort);
    proxy.set({ kind: 'reset', afterBytes: 300_000 });
    try {
      const profile = labProfile(dovecot, 'cut', { incoming: { host: 'localhost', port: proxy.port, security: 'tls', caFile: dovecot.cert.cert } });
      await withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'cut' }], profiles: [profile], sync: { batchSize: 5 } }, async (lab) => {
        const f = failure((await lab.turn('m')).outcome);
        expect(f).toMatchObject({ code: 'server_unavailable', class: 'transient', scope: 'server', disabled: false });
        const stored = await lab.store.mail.countEmails('m');
        expect(stored).toBeGreaterThan(0);
        expect(stored).toBeLessThan(40);
        expect((await lab.store.mail.getCursor('m', 'INBOX'))?.lastUid).toBe(stored);
      });
    } finally {
      await proxy.stop();
    }
  });

  it('a folder that does not exist is mailbox_not_found for the mailbox', async () => {
    const user = dovecot.addUser(unique('nofolder'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name, folders: ['INBOX', 'Archive/2026'] }] }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'mailbox_not_found', class: 'permanent', scope: 'mailbox', disabled: true });
    });
  });
});

describe('autodiscover (dnsmasq and autoconfig on loopback)', () => {
  const autoProfile = (id: string) => ({ ...labProfile(dovecot, id), incoming: { autodiscover: true, caFile: dovecot.cert.cert } });
  const extra = (dnsServers: string[]) => ({ autodiscover: { dnsServers, autoconfigUrls: [autoconfigUrl], timeoutSeconds: 2 } });

  it('finds the server through an RFC 6186 SRV record', async () => {
    const user = dovecot.addUser(unique('srv'));
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    await withLab({ mailboxes: [{ id: 'm', user: user.name, address: `${user.name}@auto.test`, profile: 'auto' }], profiles: [autoProfile('auto')], extra: extra([dns.server]) }, async (lab) => {
      expect((await lab.turn('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
    });
  });

  it('falls back to the autoconfig document when there is no SRV record', async () => {
    const user = dovecot.addUser(unique('cfg'));
    await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2)]);
    await withLab({ mailboxes: [{ id: 'm', user: user.name, address: `${user.name}@cfg.test`, profile: 'auto' }], profiles: [autoProfile('auto')], extra: extra([dns.server]) }, async (lab) => {
      expect((await lab.turn('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 2 });
    });
  });

  it('NXDOMAIN and no autoconfig is mailbox_location_unknown, permanent', async () => {
    const user = dovecot.addUser(unique('nx'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name, address: `${user.name}@nowhere.test`, profile: 'auto' }], profiles: [autoProfile('auto')], extra: extra([dns.server]) }, async (lab) => {
      const f = failure((await lab.turn('m')).outcome);
      expect(f).toMatchObject({ code: 'mailbox_location_unknown', class: 'permanent', scope: 'mailbox', disabled: true });
      expect(f.message).toContain('_imaps._tcp.nowhere.test: ENOTFOUND');
      expect(f.message).toContain('HTTP 404');
    });
  });

  it('a DNS server that does not answer is dns_failed, transient', async () => {
    const user = dovecot.addUser(unique('nodns'));
    const deadDns = `127.0.0.1:${await freePort()}`;
    await withLab({ mailboxes: [{ id: 'm', user: user.name, address: `${user.name}@nowhere.test`, profile: 'auto' }], profiles: [autoProfile('auto')], extra: extra([deadDns]) }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'dns_failed', class: 'transient', disabled: false });
    });
  });
});

describe('lifecycle: approval and ownership', () => {
  it('an unapproved mailbox is disabled with email_address_not_approved and never contacted', async () => {
    // A wrong password proves it: contacting the server would have said credentials_rejected.
    const user = dovecot.addUser(unique('unappr'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name, password: 'wrong' }], organization: { processOnlyApproved: true } }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'email_address_not_approved', class: 'permanent', scope: 'mailbox', disabled: true });
      expect(await lab.state('m')).toMatchObject({ disabledCode: 'email_address_not_approved' });
      expect((await lab.store.lifecycle.get('m')).approval).toBe('pending');
    });
  });

  it('a trusted (impersonation) profile needs admin approval: admin_approval_required', async () => {
    const user = dovecot.addUser(`${unique('adm')}@lab.example`);
    process.env.LAB_MASTER_PW = dovecot.master.password;
    const profile = labProfile(dovecot, 'trusted', { auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${LAB_MASTER_PW}' } } });
    await withLab({ mailboxes: [{ id: 'm', user: user.name, profile: 'trusted' }], profiles: [profile], organization: { requireAdminApprovalForTrustedProfiles: true } }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'admin_approval_required', class: 'permanent', scope: 'mailbox' });
      // An operator's approval is not enough for a trusted profile.
      await lab.store.lifecycle.setApproval('m', 'approved', 'op', 'operator', 1);
      const check = await lab.testEnable('m');
      expect(check.checks[0]).toMatchObject({ ok: false, code: 'admin_approval_required' });
      await lab.store.lifecycle.setApproval('m', 'approved', 'boss', 'admin', 2);
      expect((await lab.testEnable('m')).checks[0]).toMatchObject({ ok: true });
      expect((await lab.turn('m')).outcome?.result).toBe('success');
    });
  });

  it('a mailbox marked by another organization is configured_in_another_org until Test & Enable takes it over', async () => {
    const user = dovecot.addUser(unique('owned'));
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    dovecot.doveadm(['mailbox', 'metadata', 'set', '-u', user.name, '-s', '', OWNER_ENTRY, 'other-org']);
    const owner = () => dovecot.doveadm(['mailbox', 'metadata', 'get', '-u', user.name, '-s', '', OWNER_ENTRY]).trim();
    await withLab({ mailboxes: [{ id: 'm', user: user.name }] }, async (lab) => {
      expect(failure((await lab.turn('m')).outcome)).toMatchObject({ code: 'configured_in_another_org', class: 'permanent', scope: 'mailbox', disabled: true });

      const refused = await lab.testEnable('m');
      expect(refused.checks[0]).toMatchObject({ ok: false, code: 'configured_in_another_org' });
      expect(owner()).toBe('other-org');
      expect(await lab.state('m')).toMatchObject({ disabled: true, disabledCode: 'configured_in_another_org' });

      const taken = await lab.testEnable('m', true);
      expect(taken).toMatchObject({ ownership: 'taken_over', checks: [{ direction: 'incoming', ok: true }] });
      expect(owner()).toBe('lab');
      expect(await lab.state('m')).toMatchObject({ disabled: false, disabledCode: null, consecutiveFailures: 0 });
      expect((await lab.store.lifecycle.get('m')).test).toMatchObject({ state: 'completed', thisOrgOnly: true });
      expect((await lab.turn('m')).outcome).toMatchObject({ result: 'success', itemsProcessed: 1 });
    });
  });

  it('a server without METADATA: Test & Enable passes, and the mailbox says ownership is not supported', async () => {
    const bare = await Dovecot.start({ metadata: false });
    try {
      const user = bare.addUser(unique('nometa'));
      const lab = await openLab(bare, { mailboxes: [{ id: 'm', user: user.name }] });
      try {
        const result = await lab.testEnable('m');
        expect(result).toMatchObject({ ownership: 'unsupported', checks: [{ direction: 'incoming', ok: true, steps: expect.arrayContaining(['server has no METADATA: ownership not marked']) }] });
        const view = mailboxView(lab.config.mailboxes[0]!, new Map(), await lab.store.lifecycle.get('m'), lab.config, Date.now());
        expect(view).toMatchObject({ ownership: 'unsupported', warnings: [OWNERSHIP_UNSUPPORTED] });
        expect((await lab.turn('m')).outcome?.result).toBe('success');
      } finally {
        await lab.close();
      }
    } finally {
      await bare.stop();
    }
  });

  it('Test & Enable marks an unmarked mailbox as this organization\'s', async () => {
    const user = dovecot.addUser(unique('mark'));
    await withLab({ mailboxes: [{ id: 'm', user: user.name }] }, async (lab) => {
      expect(await lab.testEnable('m')).toMatchObject({ ownership: 'marked', checks: [{ ok: true, steps: expect.arrayContaining(['authenticated', 'opened INBOX']) }] });
      expect(dovecot.doveadm(['mailbox', 'metadata', 'get', '-u', user.name, '-s', '', OWNER_ENTRY]).trim()).toBe('lab');
    });
  });
});

describe('hosted-provider replies (scripted responder on a real TLS socket)', () => {
  let certDir: string;
  beforeAll(async () => {
    certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-responder-'));
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  const replay = async (script: ImapScript, mode: 'mailbox' | 'impersonation' = 'mailbox') => {
    const cert = makeCert(certDir, unique('r'));
    const responder = await ScriptedImap.start(cert, script);
    process.env.LAB_MASTER_PW = 'svc-password';
    const profile = labProfile(dovecot, 'hosted', {
      incoming: { host: 'localhost', port: responder.port, security: 'tls', caFile: cert.cert },
      timeouts: { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 2 },
      ...(mode === 'impersonation' ? { auth: { mode, credentials: { username: 'svc@hosted.example', password: '${LAB_MASTER_PW}' } } } : {}),
    });
    const clock = manualClock();
    try {
      return await withLab({ mailboxes: [{ id: 'm', user: 'someone@hosted.example', profile: 'hosted' }], profiles: [profile] }, async (lab) => {
        const turn = await lab.turn('m');
        return { f: failure(turn.outcome), nextDueAt: turn.nextDueAt, now: clock.now() };
      }, clock);
    } finally {
      await responder.stop();
    }
  };

  it('a temporary authentication failure is server_unavailable, retried', async () => {
    const { f } = await replay({ login: 'NO [UNAVAILABLE] Temporary authentication failure. [host:2026-11-28]' });
    expect(f).toMatchObject({ code: 'server_unavailable', class: 'transient', scope: 'server', disabled: false });
  });

  it('Microsoft 365 with IMAP disabled for the user is insufficient_permissions', async () => {
    const { f } = await replay({ folder: 'BAD User is authenticated but not connected.' });
    expect(f).toMatchObject({ code: 'insufficient_permissions', class: 'permanent', scope: 'mailbox', disabled: true });
  });

  it('a service account that may not act for the mailbox is insufficient_permissions for the server', async () => {
    const { f } = await replay({ login: 'NO [AUTHORIZATIONFAILED] Authorization failed' }, 'impersonation');
    expect(f).toMatchObject({ code: 'insufficient_permissions', class: 'permanent', scope: 'server' });
  });

  it('Microsoft 365 throttling waits for the suggested backoff', async () => {
    const { f, nextDueAt, now } = await replay({ folder: 'BAD Request is throttled. Suggested Backoff Time: 92415 milliseconds' });
    expect(f).toMatchObject({ code: 'provider_throttled', class: 'transient', scope: 'mailbox', disabled: false });
    expect(nextDueAt).toBe(now + 92_415);
  });
});
