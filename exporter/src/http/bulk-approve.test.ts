import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { openStore, type Store } from '../store/index.js';
import { createApi } from './api.js';

// POST /api/mailboxes/approve: the bulk "Approve Email" on a selection of mailboxes.

const TOKENS = { viewer: 'viewer-token-0123456789', operator: 'operator-token-0123456789', admin: 'admin-token-0123456789' };

const YAML = `
organization: { id: acme, processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: true }
api:
  tokens:
    - { name: ci-viewer, role: viewer, token: "\${T_VIEWER}" }
    - { name: alice, role: operator, token: "\${T_OPERATOR}" }
    - { name: root, role: admin, token: "\${T_ADMIN}" }
profiles:
  - { id: plain, incoming: { host: imap.example.com } }
  - id: trusted
    incoming: { host: imap.example.com }
    auth: { mode: impersonation, credentials: { username: svc, password: "\${PW}" } }
mailboxes:
  - { id: ann, address: ann@example.com, profile: plain, credentials: { username: ann, password: "\${PW}" } }
  - { id: bob, address: bob@example.com, profile: trusted }
  - { id: cat, address: cat@example.com, profile: plain, credentials: { username: cat, password: "\${PW}" } }
  - { id: dan, address: dan@example.com, profile: plain, credentials: { username: dan, password: "\${PW}" } }
`;

let store: Store;
let app: express.Express;
const now = 1_800_000_000_000;
const woken: string[] = [];

beforeEach(async () => {
  const config: Config = parseConfig(YAML, '/etc/mailsync/mailsync.yaml', {
    env: { T_VIEWER: TOKENS.viewer, T_OPERATOR: TOKENS.operator, T_ADMIN: TOKENS.admin, PW: 'a-password-xyz' },
  });
  store = await openStore({ path: ':memory:' });
  woken.length = 0;
  const clock = { now: () => now };
  const operations = new MailboxOperations({ config: () => config, store, clock, wake: (id) => woken.push(id), startTest: () => undefined, disconnect: () => undefined });
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
  app = express().use('/api', createApi({ operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => config.sync.outgoing.maxEmailBytes }));
});
afterEach(() => store.close());

const approve = (role: keyof typeof TOKENS, body: unknown) =>
  request(app).post('/api/mailboxes/approve').set({ authorization: `Bearer ${TOKENS[role]}` }).send(body as object);

describe('POST /api/mailboxes/approve', () => {
  it('needs a token with the operator role', async () => {
    expect((await request(app).post('/api/mailboxes/approve').send({ all: true })).status).toBe(401);
    const viewer = await approve('viewer', { all: true });
    expect([viewer.status, viewer.body.error]).toEqual([403, 'this needs the operator role; token "ci-viewer" has viewer']);
    expect((await store.lifecycle.get('ann')).approval).toBe('empty');
  });

  it.each([
    ['a body naming nothing', {}, /exactly one of ids, profile or all/],
    ['only a comment', { comment: 'go' }, /exactly one of ids, profile or all/],
    ['two selectors', { ids: ['ann'], all: true }, /exactly one of ids, profile or all/],
    ['an empty id list', { ids: [] }, /ids: the list is empty/],
    ['all: false', { all: false }, /all: must be true/],
    ['an unknown key', { every: true }, /body: unknown key\(s\) every/],
    ['a non-string id', { ids: [7] }, /ids\.0: /],
  ])('400 for %s', async (_name, body, reason) => {
    const res = await approve('admin', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(reason);
  });

  it('404 for an unknown profile', async () => {
    const res = await approve('admin', { profile: 'nope' });
    expect([res.status, res.body.error]).toEqual([404, 'profile: no profile "nope"']);
  });

  it('an operator approves a profile: every mailbox audited, approval disables lifted, each woken', async () => {
    await store.lifecycle.disable('cat', 'incoming', { code: 'email_address_not_approved', reason: 'not approved', by: 'system', at: now });
    const res = await approve('operator', { profile: 'plain', comment: 'ticket 7' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      approved: [{ id: 'ann', reenabled: [] }, { id: 'cat', reenabled: ['incoming'] }, { id: 'dan', reenabled: [] }],
      alreadyApproved: [], refused: [],
    });
    expect(woken).toEqual(['ann', 'cat', 'dan']);
    expect((await store.runs.getDirectionState('cat', 'incoming'))?.disabled).toBe(false);
    for (const id of ['ann', 'cat', 'dan']) {
      expect(await store.lifecycle.get(id)).toMatchObject({ approval: 'approved', approvalBy: 'alice', approvalRole: 'operator', approvalAt: now });
      expect(await store.lifecycle.auditLog(id)).toMatchObject([{ actor: 'alice', role: 'operator', action: 'approve', detail: { bulk: 'profile plain', comment: 'ticket 7' } }]);
    }
  });

  it('refuses an operator the trusted profile mailbox, and names unknown ids, approving the rest', async () => {
    const res = await approve('operator', { ids: ['bob', 'ann', 'ghost'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      approved: [{ id: 'ann', reenabled: [] }],
      alreadyApproved: [],
      refused: [
        { id: 'bob', reason: 'this mailbox uses a trusted (impersonation) profile: only an admin may approve it' },
        { id: 'ghost', reason: 'no mailbox "ghost" in the config' },
      ],
    });
    expect((await store.lifecycle.get('bob')).approval).toBe('empty');
    expect(await store.lifecycle.auditLog('bob')).toEqual([]);
  });

  it('an admin approves all; a rejection stands, an equal approval is not written again, a weaker one is raised', async () => {
    await store.lifecycle.setApproval('dan', 'rejected', 'alice', 'operator', now - 1);
    await store.lifecycle.setApproval('cat', 'approved', 'root', 'admin', now - 1);
    await store.lifecycle.setApproval('ann', 'approved', 'alice', 'operator', now - 1);
    const res = await approve('admin', { all: true });
    expect(res.body).toEqual({
      approved: [{ id: 'ann', reenabled: [] }, { id: 'bob', reenabled: [] }],
      alreadyApproved: ['cat'],
      refused: [{ id: 'dan', reason: 'rejected by alice: approve it by its ID to overturn the rejection' }],
    });
    expect(await store.lifecycle.get('bob')).toMatchObject({ approval: 'approved', approvalRole: 'admin' });
    expect(await store.lifecycle.get('ann')).toMatchObject({ approval: 'approved', approvalBy: 'root', approvalRole: 'admin' });
    expect((await store.lifecycle.get('dan')).approval).toBe('rejected');
    expect(await store.lifecycle.auditLog('cat')).toEqual([]);
    // The single approval by ID still overturns a rejection, as before.
    const single = await request(app).post('/api/mailboxes/dan/approve').set({ authorization: `Bearer ${TOKENS.operator}` }).send({});
    expect(single.body.approval).toMatchObject({ state: 'approved', by: 'alice' });
  });
});
