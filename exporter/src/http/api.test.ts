import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { openStore, type Store } from '../store/index.js';
import { createApi } from './api.js';
import { seedFailure } from '../../../test/support/seed.js';

const TOKENS = { viewer: 'viewer-token-0123456789', operator: 'operator-token-0123456789', admin: 'admin-token-0123456789' };
const PASSWORDS = { mailbox: 'mailbox-password-xyz', master: 'master-password-xyz' };

const YAML = `
organization: { id: acme, processOnlyApproved: true }
api:
  tokens:
    - { name: ci-viewer, role: viewer, token: "\${T_VIEWER}" }
    - { name: alice, role: operator, token: "\${T_OPERATOR}" }
    - { name: root, role: admin, token: "\${T_ADMIN}" }
profiles:
  - id: plain
    incoming: { host: imap.example.com }
  - id: trusted
    owner: mail-team@example.com
    incoming: { host: imap.example.com }
    outgoing: { host: smtp.example.com }
    auth: { mode: impersonation, credentials: { username: svc, password: "\${MASTER_PW}" } }
mailboxes:
  - { id: ann, address: ann@example.com, profile: plain, credentials: { username: ann, password: "\${MAILBOX_PW}" } }
  - { id: bob, address: bob@example.com, profile: trusted, outgoing: true }
  - { id: cat, address: cat@example.org, profile: plain, credentials: { username: cat, password: "\${MAILBOX_PW}" } }
`;

let store: Store;
let app: express.Express;
let now = 1_800_000_000_000;
const woken: string[] = [];
const wokenOutgoing: string[] = [];
const tests: string[] = [];

beforeEach(async () => {
  const config: Config = parseConfig(YAML, '/etc/mailsync/mailsync.yaml', {
    env: { T_VIEWER: TOKENS.viewer, T_OPERATOR: TOKENS.operator, T_ADMIN: TOKENS.admin, MASTER_PW: PASSWORDS.master, MAILBOX_PW: PASSWORDS.mailbox },
  });
  store = await openStore({ path: ':memory:' });
  woken.length = 0;
  wokenOutgoing.length = 0;
  tests.length = 0;
  const operations = new MailboxOperations({
    config: () => config, store, clock: { now: () => now },
    wake: (id) => woken.push(id), startTest: (id) => tests.push(id), disconnect: () => undefined,
  });
  const emails = new EmailOperations({ config: () => config, store, clock: { now: () => now }, wakeOutgoing: (id) => wokenOutgoing.push(id) });
  app = express().use('/api', createApi({ operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => config.sync.outgoing.maxEmailBytes }));
});
afterEach(() => store.close());

const as = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

const ROUTES: { method: 'get' | 'post'; path: string; minimum: keyof typeof TOKENS; body?: object }[] = [
  { method: 'get', path: '/api/mailboxes', minimum: 'viewer' },
  { method: 'get', path: '/api/mailboxes/ann', minimum: 'viewer' },
  { method: 'get', path: '/api/profiles/plain/alerts', minimum: 'viewer' },
  { method: 'post', path: '/api/mailboxes/ann/approve', minimum: 'operator', body: {} },
  { method: 'post', path: '/api/mailboxes/ann/reject', minimum: 'operator', body: {} },
  { method: 'post', path: '/api/mailboxes/ann/test-enable', minimum: 'operator', body: {} },
  { method: 'post', path: '/api/mailboxes/ann/disable', minimum: 'operator', body: { reason: 'maintenance' } },
  { method: 'post', path: '/api/mailboxes/bob/emails', minimum: 'operator', body: { to: 'x@remote.example', subject: 's', text: 't' } },
  { method: 'get', path: '/api/mailboxes/bob/emails', minimum: 'viewer' },
];

describe('admin API authentication and roles', () => {
  it.each(ROUTES)('$method $path refuses a missing or unknown token, and a role below $minimum', async (route) => {
    const missing = await request(app)[route.method](route.path).send(route.body);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="mailsync"');
    expect(missing.body.error).toMatch(/missing bearer token/);
    const unknown = await request(app)[route.method](route.path).set({ authorization: 'Bearer not-a-real-token-at-all' }).send(route.body);
    expect([unknown.status, unknown.body.error]).toEqual([401, 'unknown bearer token']);
    if (route.minimum !== 'viewer') {
      const weak = await request(app)[route.method](route.path).set(as('viewer')).send(route.body);
      expect(weak.status).toBe(403);
      expect(weak.body.error).toMatch(/needs the operator role/);
    }
    const ok = await request(app)[route.method](route.path).set(as(route.minimum)).send(route.body);
    expect(ok.status).toBeLessThan(300);
  });

  it('never shows a token or a password in any response', async () => {
    const bodies: string[] = [];
    for (const route of ROUTES) bodies.push((await request(app)[route.method](route.path).set(as('admin')).send(route.body)).text);
    bodies.push((await request(app).get('/api/mailboxes/bob').set(as('admin'))).text);
    const all = bodies.join('\n');
    for (const secret of [...Object.values(TOKENS), ...Object.values(PASSWORDS)]) expect(all).not.toContain(secret);
  });
});

describe('admin API validation', () => {
  it.each([
    ['unknown key', '/api/mailboxes/ann/test-enable', { thisOrganizationOnly: true, force: 1 }, /body: unknown key\(s\) force/],
    ['wrong type', '/api/mailboxes/ann/test-enable', { thisOrganizationOnly: 'yes' }, /thisOrganizationOnly: .*boolean/],
    ['missing reason', '/api/mailboxes/ann/disable', {}, /reason: /],
    ['blank reason', '/api/mailboxes/ann/disable', { reason: '   ' }, /reason: say why/],
    ['bad direction', '/api/mailboxes/ann/disable', { reason: 'x', directions: ['sideways'] }, /directions\.0: /],
    ['comment too long', '/api/mailboxes/ann/approve', { comment: 'x'.repeat(501) }, /comment: /],
  ])('400 for %s', async (_name, path, body, reason) => {
    const res = await request(app).post(path).set(as('admin')).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(reason);
  });

  it('400 for a malformed JSON body, 404 for unknown mailboxes, profiles and routes', async () => {
    const bad = await request(app).post('/api/mailboxes/ann/disable').set(as('admin')).set('content-type', 'application/json').send('{"reason": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not valid JSON/);
    expect((await request(app).get('/api/mailboxes/nobody').set(as('viewer'))).status).toBe(404);
    expect((await request(app).get('/api/profiles/nope/alerts').set(as('viewer'))).status).toBe(404);
    expect((await request(app).get('/api/nothing').set(as('viewer'))).status).toBe(404);
  });

  it('400 for bad list queries', async () => {
    for (const q of ['health=green', 'pageSize=0', 'pageSize=501', 'page=-1', 'state=maybe', 'colour=red']) {
      expect((await request(app).get(`/api/mailboxes?${q}`).set(as('viewer'))).status).toBe(400);
    }
  });
});

describe('admin API mailbox operations', () => {
  it('lists with filters, text search and paging', async () => {
    const all = await request(app).get('/api/mailboxes').set(as('viewer'));
    expect(all.body).toMatchObject({ total: 3, page: 1, pageSize: 50 });
    expect(all.body.items.map((m: { id: string }) => m.id)).toEqual(['ann', 'bob', 'cat']);
    expect((await request(app).get('/api/mailboxes?profile=trusted').set(as('viewer'))).body.items.map((m: { id: string }) => m.id)).toEqual(['bob']);
    expect((await request(app).get('/api/mailboxes?q=EXAMPLE.ORG').set(as('viewer'))).body.items.map((m: { id: string }) => m.id)).toEqual(['cat']);
    const page2 = await request(app).get('/api/mailboxes?pageSize=2&page=2').set(as('viewer'));
    expect(page2.body).toMatchObject({ total: 3, page: 2, items: [{ id: 'cat' }] });
    expect((await request(app).get('/api/mailboxes?health=inactive').set(as('viewer'))).body.total).toBe(3);
  });

  it('approves, re-enables a direction disabled for approval, wakes the mailbox, and audits it', async () => {
    await store.lifecycle.disable('ann', 'incoming', { code: 'email_address_not_approved', reason: 'not approved', by: 'system', at: now });
    const res = await request(app).post('/api/mailboxes/ann/approve').set(as('operator')).send({ comment: 'ticket 42' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ approval: { state: 'approved', by: 'alice', role: 'operator' }, directions: { incoming: { enabled: true, disabled: null } } });
    expect(woken).toEqual(['ann']);
    expect(await store.lifecycle.auditLog('ann')).toMatchObject([{ actor: 'alice', role: 'operator', action: 'approve', detail: { comment: 'ticket 42', reenabled: ['incoming'] } }]);
  });

  it('lets only an admin approve a mailbox on a trusted profile', async () => {
    const op = await request(app).post('/api/mailboxes/bob/approve').set(as('operator')).send({});
    expect(op.status).toBe(403);
    expect(op.body.error).toMatch(/only an admin may approve/);
    expect((await store.lifecycle.get('bob')).approval).toBe('empty');
    const admin = await request(app).post('/api/mailboxes/bob/approve').set(as('admin')).send({});
    expect(admin.body.approval).toMatchObject({ state: 'approved', role: 'admin' });
  });

  it('schedules Test & Enable once (409 while it is pending), with the ownership option', async () => {
    const first = await request(app).post('/api/mailboxes/ann/test-enable').set(as('operator')).send({ thisOrganizationOnly: true });
    expect(first.status).toBe(202);
    expect(first.body.testEnable).toMatchObject({ state: 'scheduled', requestedBy: 'alice', thisOrgOnly: true });
    expect(first.body.health).toBe('testing');
    expect(tests).toEqual(['ann']);
    const again = await request(app).post('/api/mailboxes/ann/test-enable').set(as('operator')).send({});
    expect(again.status).toBe(409);
    expect(await store.lifecycle.auditLog('ann')).toMatchObject([{ action: 'test_enable', detail: { thisOrganizationOnly: true } }]);
  });

  it('disables every configured direction or the ones named, as the operator, and audits it', async () => {
    const res = await request(app).post('/api/mailboxes/bob/disable').set(as('operator')).send({ reason: 'user left' });
    expect(res.body.directions).toMatchObject({
      incoming: { enabled: false, disabled: { code: null, by: 'operator:alice', reason: 'user left' } },
      outgoing: { enabled: false },
      act: { configured: false },
    });
    expect((await request(app).get('/api/mailboxes?state=disabled').set(as('viewer'))).body.items.map((m: { id: string }) => m.id)).toEqual(['bob']);
    const one = await request(app).post('/api/mailboxes/cat/disable').set(as('operator')).send({ reason: 'x', directions: ['incoming'] });
    expect(one.body.directions.incoming.disabled).not.toBeNull();
    expect(await store.lifecycle.auditLog('bob')).toMatchObject([{ action: 'disable', detail: { directions: ['incoming', 'outgoing'], reason: 'user left' } }]);
  });

  it('shows a mailbox with its alert records, and a profile with its failing share', async () => {
    for (const at of [now - 10_000, now - 5_000]) {
      await seedFailure(store, {
    mailboxId: 'bob', profileId: 'trusted', direction: 'incoming', startedAt: at, at: at, code: 'credentials_rejected', message: 'AUTHENTICATIONFAILED',
    class: 'permanent', scope: 'server', disable: true, nextAttemptAt: null,
  });
    }
    const show = await request(app).get('/api/mailboxes/bob').set(as('viewer'));
    expect(show.body).toMatchObject({
      health: 'failing',
      directions: { incoming: { disabled: { code: 'credentials_rejected', by: 'system' }, lastError: { code: 'credentials_rejected', class: 'permanent', scope: 'server', runbook: 'credentials_rejected' } } },
      alerts: [{ code: 'credentials_rejected', count: 2, firstSeenAt: now - 10_000, lastSeenAt: now - 5_000 }],
      runs: [{ result: 'failure' }, { result: 'failure' }],
    });
    const profile = await request(app).get('/api/profiles/trusted/alerts').set(as('viewer'));
    expect(profile.body).toMatchObject({ profile: 'trusted', owner: 'mail-team@example.com', mailboxes: 1, failingLastHour: 1, failingShare: 1, alerts: [{ code: 'credentials_rejected', mailboxId: 'bob' }] });
    now += 2 * 3_600_000;
    expect((await request(app).get('/api/profiles/trusted/alerts').set(as('viewer'))).body.failingLastHour).toBe(0);
  });
});

describe('admin API: the Pending Send queue', () => {
  const queue = (body: object, role: keyof typeof TOKENS = 'operator') => request(app).post('/api/mailboxes/bob/emails').set(as(role)).send(body);

  it('queues an email with a Message-ID, wakes the outgoing scan, audits it, and shows its state and history', async () => {
    const res = await queue({ to: ['a@remote.example', 'A@remote.example'], bcc: 'b@remote.example', subject: 'Hello', text: 'Hi', attachments: [{ filename: 'n.txt', contentBase64: Buffer.from('note').toString('base64') }] });
    expect(res.status).toBe(202);
    expect(res.body.email).toMatchObject({ state: 'pending_send', recipients: ['a@remote.example', 'b@remote.example'], queuedBy: 'alice', messageId: expect.stringMatching(/^<[0-9a-f-]+@example\.com>$/) });
    expect(res.body.email.history).toMatchObject([{ state: 'pending_send', detail: 'queued by alice' }]);
    expect(res.body.warning).toBeUndefined();
    expect(wokenOutgoing).toEqual(['bob']);
    const id = res.body.email.id as number;
    expect((await request(app).get(`/api/mailboxes/bob/emails/${id}`).set(as('viewer'))).body).toMatchObject({ id, state: 'pending_send' });
    expect((await request(app).get('/api/mailboxes/bob/emails?state=pending_send').set(as('viewer'))).body.items).toHaveLength(1);
    expect(await store.lifecycle.auditLog('bob')).toMatchObject([{ action: 'queue_email', actor: 'alice', detail: { email: id, recipients: 2 } }]);
    // The raw message is stored once, without the Bcc header.
    expect((await store.outgoing.raw(id))?.toString()).not.toMatch(/^Bcc:/im);
  });

  it('queues for a mailbox without outgoing too, and says it will stay Pending Send', async () => {
    const res = await request(app).post('/api/mailboxes/ann/emails').set(as('operator')).send({ to: 'x@remote.example', subject: 's', text: 't' });
    expect(res.status).toBe(202);
    expect(res.body.warning).toMatch(/not configured for outgoing/);
  });

  it.each([
    ['no body text', { to: 'x@remote.example', subject: 's' }, /text: give text, html or both/],
    ['a bad address', { to: 'not-an-address', subject: 's', text: 't' }, /to: /],
    ['a two-line subject', { to: 'x@remote.example', subject: 'a\r\nBcc: evil@x.example', text: 't' }, /subject: must be one line/],
    ['a path as attachment name', { to: 'x@remote.example', subject: 's', text: 't', attachments: [{ filename: '../etc/passwd', contentBase64: '' }] }, /filename: must be a file name/],
    ['attachment content that is not base64', { to: 'x@remote.example', subject: 's', text: 't', attachments: [{ filename: 'a', contentBase64: '%%%' }] }, /contentBase64: must be base64/],
    ['an unknown key', { to: 'x@remote.example', subject: 's', text: 't', priority: 'high' }, /unknown key\(s\) priority/],
  ])('400 for %s', async (_name, body, reason) => {
    const res = await queue(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(reason);
    expect(await store.outgoing.list('bob', undefined, 10)).toHaveLength(0);
  });

  it('refuses an email larger than the limit, and unknown emails are 404', async () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 1).toString('base64');
    const res = await queue({ to: 'x@remote.example', subject: 's', text: 't', attachments: [{ filename: 'big.bin', contentBase64: big }] });
    expect([400, 413]).toContain(res.status);
    expect(await store.outgoing.list('bob', undefined, 10)).toHaveLength(0);
    expect((await request(app).get('/api/mailboxes/bob/emails/999').set(as('viewer'))).status).toBe(404);
    expect((await request(app).get('/api/mailboxes/bob/emails/abc').set(as('viewer'))).status).toBe(400);
  });
});

