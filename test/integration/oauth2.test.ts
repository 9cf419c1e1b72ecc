import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthLoginFor } from '../../exporter/src/auth/login.js';
import { TokenProvider } from '../../exporter/src/auth/tokens.js';
import { createLogger } from '../../exporter/src/log.js';
import { openStore } from '../../exporter/src/store/index.js';
import { startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig, type LabMailbox } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { manualClock, openLab, withOpenLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { SmtpLab } from '../harness/smtp.js';
import { TokenService } from '../harness/token-service.js';
import { waitFor } from '../harness/wait.js';

let tokens: TokenService;
let dovecot: Dovecot;
let smtp: SmtpLab;
let keys: string;

beforeAll(async () => {
  tokens = await TokenService.start();
  dovecot = await Dovecot.start({ oauth2: { introspectionUrl: tokens.introspectionUrl, caFile: tokens.cert.cert, tenantDomain: 'lab.example' }, pop3: true });
  smtp = await SmtpLab.start({ cert: dovecot.cert, users: {}, oauth: (token, user) => tokens.valid(token, user) });
  keys = mkdtempSync(path.join(tmpdir(), 'mailsync-oauth-keys-'));
  tokens.addClient('ms-app', { secret: 'ms-app-secret-value' });
  process.env.LAB_MS_SECRET = 'ms-app-secret-value';
  tokens.addClient('google-web', { secret: 'google-web-secret' });
  process.env.LAB_GOOGLE_SECRET = 'google-web-secret';
});
afterAll(async () => {
  await smtp?.stop();
  await dovecot?.stop();
  await tokens?.stop();
});

/** A profile of the lab's Dovecot and SMTP server logging in with OAuth2 at the token service. */
function oauthProfile(id: string, oauth2: Record<string, unknown>): Record<string, unknown> {
  return labProfile(dovecot, id, {
    auth: { mode: 'oauth2', oauth2: { caFile: tokens.cert.cert, ...oauth2 } },
    outgoing: { host: 'localhost', port: smtp.port, security: 'starttls', caFile: dovecot.cert.cert },
  });
}

const microsoft = (id: string, extra: Record<string, unknown> = {}) => oauthProfile(id, {
  grant: 'client_credentials', tokenUrl: tokens.microsoftUrl(), clientId: 'ms-app', clientSecret: '${LAB_MS_SECRET}',
  scope: 'https://outlook.office365.com/.default', ...extra,
});

/** A Dovecot user whose login is its address, with two messages in INBOX. */
async function mailboxUser(local: string): Promise<LabMailbox & { user: string }> {
  const user = dovecot.addUser(`${local}@lab.example`);
  await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2)]);
  return { id: local, user: user.name, outgoing: true };
}

/** One incoming cycle, one queued email sent: what each grant must do end to end. */
async function syncAndSend(lab: Awaited<ReturnType<typeof openLab>>, id: string, address: string): Promise<void> {
  const cycle = await lab.cycle(id);
  expect(cycle).toMatchObject({ result: 'success', stored: 2 });
  const email = await lab.queue(id, { to: ['someone@elsewhere.example'] });
  await lab.send(id);
  expect((await lab.email(email.id)).state).toBe('sent');
  expect(smtp.deliveries.at(-1)).toMatchObject({ user: address, from: address });
}

describe('OAuth2 logins against Dovecot\'s oauth2 passdb and an XOAUTH2 SMTP server', () => {
  it('client credentials with a secret (Microsoft 365 app-only): syncs and sends', async () => {
    const m = await mailboxUser('cc-alice');
    await withOpenLab(openLab(dovecot, { profiles: [microsoft('m365')], mailboxes: [{ ...m, profile: 'm365' }] }), async (lab) => {
      await syncAndSend(lab, m.id, m.user);
    });
  });

  it('client credentials with a certificate (RFC 7523 client assertion): syncs', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    tokens.addClient('ms-cert-app', { publicKey });
    const keyFile = path.join(keys, 'ms-cert.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const m = await mailboxUser('cert-bob');
    const profile = microsoft('m365cert', { clientId: 'ms-cert-app', clientSecret: undefined, privateKey: { file: keyFile }, certificateThumbprint: 'a'.repeat(40) });
    await withOpenLab(openLab(dovecot, { profiles: [profile], mailboxes: [{ ...m, profile: 'm365cert' }] }), async (lab) => {
      expect(await lab.cycle(m.id)).toMatchObject({ result: 'success', stored: 2 });
    });
  });

  it('JWT bearer with a service account (Google domain-wide delegation): syncs and sends as the mailbox', async () => {
    const keyFile = path.join(keys, 'sa.json');
    writeFileSync(keyFile, tokens.addServiceAccount('mailsync@lab-project.iam.gserviceaccount.com'));
    const m = await mailboxUser('jwt-carol');
    const profile = oauthProfile('gws', { grant: 'jwt_bearer', tokenUrl: tokens.googleUrl, scope: 'https://mail.google.com/', serviceAccountKey: { file: keyFile } });
    await withOpenLab(openLab(dovecot, { profiles: [profile], mailboxes: [{ ...m, profile: 'gws' }] }), async (lab) => {
      await syncAndSend(lab, m.id, m.user);
    });
  });

  it('refresh token, rotated by the endpoint: persisted sealed (not in the store file in clear) and used after a restart', async () => {
    tokens.rotateRefreshTokens = true;
    try {
      const m = await mailboxUser('rt-dave');
      const initial = tokens.issueRefreshToken(m.user, 'google-web');
      const profile = oauthProfile('delegated', { grant: 'refresh_token', tokenUrl: tokens.googleUrl, clientId: 'google-web', clientSecret: '${LAB_GOOGLE_SECRET}', scope: 'https://mail.google.com/' });
      const options = { profiles: [profile], mailboxes: [{ ...m, profile: 'delegated', refreshToken: initial }] };
      const lab = await openLab(dovecot, options);
      let storePath: string;
      try {
        await syncAndSend(lab, m.id, m.user);
        storePath = lab.config.store.path;
      } finally {
        await lab.close();
      }
      // The initial token is dead (rotated); only the stored rotated one can still get a token.
      const raw = readFileSync(storePath).toString('latin1') + readWal(storePath);
      expect(raw).not.toContain(initial);
      expect(raw).not.toMatch(/rt-[A-Za-z0-9_-]{32}/);
      expect(raw).not.toMatch(/at-[A-Za-z0-9_-]{32}/);

      const store = await openStore({ path: storePath });
      try {
        const before = tokens.requests.length;
        const restarted = new TokenProvider({ store, clock: { now: () => Date.now() }, logger: createLogger('silent'), encryptionKey: () => lab.config.store.encryptionKey });
        const mailbox = lab.config.mailboxes[0]!;
        const token = await restarted.get(oauthLoginFor(mailbox, lab.config.profiles.find((p) => p.id === 'delegated')!));
        expect(tokens.valid(token.reveal(), m.user)).toBe(true);
        expect(tokens.requests.length).toBe(before + 1);
      } finally {
        await store.close();
      }
    } finally {
      tokens.rotateRefreshTokens = false;
    }
  });

  it('an access token the server stops accepting mid-run is replaced without a recorded failure', async () => {
    const m = await mailboxUser('mid-erin');
    await withOpenLab(openLab(dovecot, { profiles: [microsoft('m365mid')], mailboxes: [{ ...m, profile: 'm365mid' }] }), async (lab) => {
      expect(await lab.cycle(m.id)).toMatchObject({ result: 'success' });
      // The cached token still looks valid to mailsync; the provider has ended it early.
      tokens.expireAccessTokens();
      lab.sessions.closeIdle();
      dovecot.deliver(m.user, 'INBOX', Buffer.from(makeMessage(3)));
      expect(await lab.cycle(m.id)).toMatchObject({ result: 'success', stored: 1 });
      const email = await lab.queue(m.id, { to: ['someone@elsewhere.example'] });
      tokens.expireAccessTokens();
      await lab.send(m.id);
      expect((await lab.email(email.id)).state).toBe('sent');
      expect((await lab.state(m.id))?.consecutiveFailures).toBe(0);
      expect(await lab.store.lifecycle.alerts('mailbox', m.id)).toEqual([]);
    });
  });

  it('POP3 logs in with SASL XOAUTH2 from the same token cache, and a token ended early is replaced', async () => {
    const m = await mailboxUser('pop-olga');
    const pop3 = { ...microsoft('m365pop'), incoming: { protocol: 'pop3', host: 'localhost', port: dovecot.pop3sPort, security: 'tls', caFile: dovecot.cert.cert } };
    await withOpenLab(openLab(dovecot, { profiles: [pop3], mailboxes: [{ ...m, profile: 'm365pop', outgoing: false }] }), async (lab) => {
      expect(await lab.cycle(m.id)).toMatchObject({ result: 'success', stored: 2 });
      tokens.expireAccessTokens();
      const before = tokens.requests.length;
      dovecot.deliver(m.user, 'INBOX', Buffer.from(makeMessage(3)));
      expect(await lab.cycle(m.id)).toMatchObject({ result: 'success', stored: 1 });
      // The refused token was replaced by exactly one new request, and no failure was recorded.
      expect(tokens.requests.length).toBe(before + 1);
      expect((await lab.state(m.id))?.consecutiveFailures).toBe(0);
    });
  });
});

describe('mailsync run with an OAuth2 profile', () => {
  it('syncs through the service, and no access token reaches its log, API or metrics', async () => {
    const m = await mailboxUser('svc-kim');
    process.env.LAB_OAUTH_API_TOKEN = 'oauth-viewer-token-0123456789';
    const lab = writeLabConfig(dovecot, {
      profiles: [microsoft('m365svc')], mailboxes: [{ ...m, outgoing: false, profile: 'm365svc' }],
      sync: { jitterRatio: 0 }, extra: { api: { tokens: [{ name: 'v', role: 'viewer', token: '${LAB_OAUTH_API_TOKEN}' }] } },
    });
    const before = tokens.requests.length;
    const run = startCli(['run', '--config', lab.file, '--log-level', 'debug'], lab.env);
    try {
      const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
      const get = async (route: string) => (await fetch(`${String(url)}${route}`, { headers: { authorization: 'Bearer oauth-viewer-token-0123456789' } })).text();
      await waitFor(() => get(`/api/mailboxes/${m.id}`), { what: 'the two messages synced', until: (t) => /"itemsProcessedTotal":2/.test(t) });
      const issued = tokens.requests.length - before;
      expect(issued).toBe(1);
      const seen = run.stderr() + run.stdout() + await get(`/api/mailboxes/${m.id}`) + await get('/metrics') + await get('/');
      expect(seen).toContain('obtained an OAuth2 access token');
      expect(seen).not.toMatch(/at-[A-Za-z0-9_-]{32}/);
      expect(seen).not.toContain('ms-app-secret-value');
    } finally {
      await run.stop();
    }
  });
});

describe('OAuth2 failures, classified', () => {
  it('a revoked refresh token disables the mailbox with credentials_rejected and records its alert', async () => {
    const m = await mailboxUser('revoked-frank');
    const initial = tokens.issueRefreshToken(m.user, 'google-web');
    const profile = oauthProfile('revoking', { grant: 'refresh_token', tokenUrl: tokens.googleUrl, clientId: 'google-web', clientSecret: '${LAB_GOOGLE_SECRET}', scope: 'https://mail.google.com/' });
    await withOpenLab(openLab(dovecot, { profiles: [profile], mailboxes: [{ ...m, profile: 'revoking', refreshToken: initial }] }), async (lab) => {
      tokens.revokeRefreshTokens(m.user);
      const outcome = await lab.cycle(m.id);
      expect(outcome).toMatchObject({ result: 'failure', code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', disabled: true });
      expect((outcome as { message: string }).message).toContain('Token has been expired or revoked.');
      expect(await lab.store.lifecycle.alerts('mailbox', m.id)).toMatchObject([{ code: 'credentials_rejected' }]);
      expect(await lab.state(m.id)).toMatchObject({ disabled: true, disabledCode: 'credentials_rejected' });
    });
  });

  it('a token endpoint that is down is a transient failure of each mailbox, none disabled, and it recovers', async () => {
    const users = [await mailboxUser('down-gina'), await mailboxUser('down-hal'), await mailboxUser('down-ivy')];
    const options = { profiles: [microsoft('m365down')], mailboxes: users.map((u) => ({ ...u, outgoing: false, profile: 'm365down' })) };
    const clock = manualClock(Date.now());
    await withOpenLab(openLab(dovecot, options, clock), async (lab) => {
      for (const mode of ['drop', '5xx'] as const) {
        tokens.mode = mode;
        const before = tokens.requests.length;
        for (const u of users) {
          const outcome = await lab.cycle(u.id);
          expect(outcome).toMatchObject({ result: 'failure', class: 'transient', disabled: false });
          expect(['connect_failed', 'server_unavailable']).toContain((outcome as { code: string }).code);
        }
        // The fleet shares one request to an endpoint that is down, not one per mailbox.
        expect(tokens.requests.length).toBe(before + 1);
        clock.set(clock.now() + 5_000);
      }
      tokens.mode = 'up';
      for (const u of users) {
        expect(await lab.cycle(u.id)).toMatchObject({ result: 'success', stored: 2 });
        expect(await lab.state(u.id)).toMatchObject({ consecutiveFailures: 0, disabled: false });
      }
    });
  });

  it('missing admin consent: Test & Enable reports the token step, disables with oauth_consent_required and pages', async () => {
    tokens.addClient('ms-unconsented', { secret: 'unconsented-secret' }, false);
    process.env.LAB_UNCONSENTED = 'unconsented-secret';
    const m = await mailboxUser('consent-jack');
    const profile = microsoft('m365consent', { clientId: 'ms-unconsented', clientSecret: '${LAB_UNCONSENTED}' });
    await withOpenLab(openLab(dovecot, { profiles: [profile], mailboxes: [{ ...m, outgoing: false, profile: 'm365consent' }] }), async (lab) => {
      const result = await lab.testEnable(m.id);
      expect(result.checks[0]).toMatchObject({ ok: false, code: 'oauth_consent_required', steps: [] });
      expect((result.checks[0] as { message: string }).message).toMatch(/AADSTS65001/);
      expect(await lab.state(m.id)).toMatchObject({ disabled: true, disabledCode: 'oauth_consent_required' });
      expect(await lab.store.lifecycle.alerts('profile', 'm365consent')).toMatchObject([{ code: 'oauth_consent_required' }]);

      tokens.setConsent('ms-unconsented', true);
      const fixed = await lab.testEnable(m.id);
      expect(fixed.checks[0]).toMatchObject({ ok: true });
      expect(fixed.checks[0]?.steps[0]).toMatch(/^obtained an OAuth2 access token from localhost:\d+ \(grant client_credentials\)$/);
    });
  });
});

/** The WAL holds the latest commits until a checkpoint: the raw store is both files. */
function readWal(file: string): string {
  try {
    return readFileSync(`${file}-wal`).toString('latin1');
  } catch {
    return '';
  }
}
