import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { createApi } from '../http/api.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { systemTimers } from '../scheduler/scheduler.js';
import { openStore, type Store } from '../store/index.js';
import { DefinitionOperations } from './operations.js';
import { definitionRoutes } from './routes.js';
import { DefinitionsRuntime } from './runtime.js';

const TOKENS = { operator: 'operator-token-0123456789', admin: 'admin-token-0123456789' };
const ENV = { T_OPERATOR: TOKENS.operator, T_ADMIN: TOKENS.admin, PW: 'mailbox-password-xyz' };
const YAML = `
organization: { id: acme }
api:
  tokens:
    - { name: alice, role: operator, token: "\${T_OPERATOR}" }
    - { name: root, role: admin, token: "\${T_ADMIN}" }
profiles:
  - { id: plain, incoming: { host: imap.example.com } }
mailboxes:
  - { id: ann, address: ann@example.com, profile: plain, credentials: { username: ann, password: "\${PW}" } }
`;

let dir: string;
let file: string;
let store: Store;
let app: express.Express;
let running: Config;
let ops: DefinitionOperations;
let runtime: DefinitionsRuntime;
const applied: Config[] = [];
const now = 1_800_000_000_000;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mailsync-defs-'));
  file = path.join(dir, 'mailsync.yaml');
  writeFileSync(file, YAML);
  store = await openStore({ path: ':memory:' });
  applied.length = 0;
  const clock = { now: () => now };
  runtime = new DefinitionsRuntime({
    store, clock, timers: systemTimers, logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, env: ENV, pollMs: () => 5_000,
    apply: async (c) => { running = c; applied.push(c); },
  });
  running = await runtime.withFile(parseConfig(YAML, file, { env: ENV }));
  const operations = new MailboxOperations({ config: () => running, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
  const emails = new EmailOperations({ config: () => running, store, clock, wakeOutgoing: () => undefined });
  ops = new DefinitionOperations({ store, clock, runtime });
  app = express().use('/api', createApi({
    operations, emails, tokens: () => running.api.tokens, maxEmailBytes: () => running.sync.outgoing.maxEmailBytes,
    definitions: { routes: (h) => definitionRoutes(ops, h), mailboxSource: (id) => runtime.source('mailbox', id) },
  }));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const admin = { authorization: `Bearer ${TOKENS.admin}` };
const box = (id: string, extra: Record<string, unknown> = {}) => ({ id, address: `${id}@example.com`, profile: 'plain', credentials: { username: id, password: { env: 'PW' } }, ...extra });

describe('profile and mailbox definitions API', () => {
  it('creates a mailbox that the runner applies at once, with source api and an audit entry', async () => {
    const created = await request(app).post('/api/mailboxes').set(admin).send(box('bob'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'mailbox', id: 'bob', source: 'api', changedBy: 'root', definition: { credentials: { password: { env: 'PW' } } } });
    expect(applied.at(-1)?.mailboxes.map((m) => m.id)).toEqual(['ann', 'bob']);
    expect(running.mailboxes.find((m) => m.id === 'bob')?.credentials?.password.reveal()).toBe(ENV.PW);
    const shown = await request(app).get('/api/mailboxes/bob').set(admin);
    expect(shown.body).toMatchObject({ id: 'bob', source: 'api', audit: [{ action: 'create_mailbox', actor: 'root', role: 'admin' }] });
    expect((await request(app).get('/api/mailboxes/ann').set(admin)).body.source).toBe('file');
    expect((await request(app).get('/api/mailboxes').set(admin)).body.items.map((m: { id: string; source: string }) => `${m.id}:${m.source}`)).toEqual(['ann:file', 'bob:api']);
  });

  it('creates, reads, changes and deletes a profile', async () => {
    expect((await request(app).post('/api/profiles').set(admin).send({ id: 'other', incoming: { host: 'imap.other.example' } })).status).toBe(201);
    expect((await request(app).get('/api/profiles').set(admin)).body.items.map((p: { id: string; source: string }) => `${p.id}:${p.source}`)).toEqual(['other:api', 'plain:file']);
    const changed = await request(app).put('/api/profiles/other').set(admin).send({ incoming: { host: 'imap2.other.example' } });
    expect(changed.status).toBe(200);
    expect(running.profiles.find((p) => p.id === 'other')?.incoming.host).toBe('imap2.other.example');
    expect((await request(app).get('/api/profiles/other').set(admin)).body.definition).toEqual({ id: 'other', incoming: { host: 'imap2.other.example' } });
    expect((await request(app).delete('/api/profiles/other').set(admin)).body).toEqual({ deleted: 'other' });
    expect(running.profiles.map((p) => p.id)).toEqual(['plain']);
    expect((await request(app).get('/api/profiles/other').set(admin)).status).toBe(404);
  });

  it('needs the admin role, JSON bodies and a token', async () => {
    expect((await request(app).post('/api/mailboxes').set({ authorization: `Bearer ${TOKENS.operator}` }).send(box('bob'))).status).toBe(403);
    expect((await request(app).get('/api/profiles').set({ authorization: `Bearer ${TOKENS.operator}` })).status).toBe(403);
    expect((await request(app).post('/api/profiles').send({ id: 'x' })).status).toBe(401);
    const form = await request(app).post('/api/profiles').set(admin).set('content-type', 'text/plain').send('id=x');
    expect(form.status).toBe(415);
  });

  it('answers 400 naming the field: schema, a secret in clear, a cross-reference, a changed id', async () => {
    const address = await request(app).post('/api/mailboxes').set(admin).send(box('bob', { address: 'nope' }));
    expect(address.status).toBe(400);
    expect(address.body.error).toBe('address: must be an email address');
    const secret = await request(app).post('/api/mailboxes').set(admin).send(box('bob', { credentials: { username: 'bob', password: 'hunter2-in-clear' } }));
    expect(secret.status).toBe(400);
    expect(secret.body.error).toMatch(/^credentials\.password: the API accepts a secret only as \{ env: NAME \} or \{ file: \/path \}/);
    expect(secret.body.error).not.toContain('hunter2');
    const unknown = await request(app).post('/api/mailboxes').set(admin).send(box('bob', { profile: 'ghost' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^mailbox "bob" \(api\)\.profile: unknown profile "ghost"/);
    const renamed = await request(app).put('/api/profiles/plain2').set(admin).send({ id: 'other', incoming: { host: 'h' } });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error).toMatch(/^id: "other" differs from the path's "plain2"/);
    expect((await request(app).post('/api/profiles').set(admin).send([1])).status).toBe(400);
    expect(await store.definitions.revision()).toBe(1);
  });

  it('answers 409 for ids the config file defines, naming the file, and for a second create', async () => {
    for (const [method, url, body] of [
      ['post', '/api/mailboxes', box('ann')], ['put', '/api/mailboxes/ann', box('ann')], ['delete', '/api/mailboxes/ann', undefined],
      ['post', '/api/profiles', { id: 'plain', incoming: { host: 'h' } }], ['delete', '/api/profiles/plain', undefined],
    ] as const) {
      const res = await request(app)[method](url).set(admin).send(body);
      expect([url, res.status]).toEqual([url, 409]);
      expect(res.body.error).toContain(`is defined in the config file ${file}`);
    }
    await request(app).post('/api/mailboxes').set(admin).send(box('bob'));
    const again = await request(app).post('/api/mailboxes').set(admin).send(box('bob'));
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('mailbox "bob" already exists; change it with PUT');
  });

  it('answers 409 for deleting a profile a mailbox uses, and 404 for ids nobody defined', async () => {
    await request(app).post('/api/profiles').set(admin).send({ id: 'other', incoming: { host: 'imap.other.example' } });
    await request(app).post('/api/mailboxes').set(admin).send(box('bob', { profile: 'other' }));
    const used = await request(app).delete('/api/profiles/other').set(admin);
    expect(used.status).toBe(409);
    expect(used.body.error).toMatch(/^profile "other" is used by mailbox\(es\) bob/);
    expect((await request(app).put('/api/mailboxes/ghost').set(admin).send(box('ghost'))).status).toBe(404);
    expect((await request(app).delete('/api/mailboxes/ghost').set(admin)).status).toBe(404);
    expect((await request(app).get('/api/profiles/ghost').set(admin)).status).toBe(404);
    expect((await request(app).delete('/api/mailboxes/bob').set(admin)).status).toBe(200);
    expect(running.mailboxes.map((m) => m.id)).toEqual(['ann']);
  });
});

describe('concurrent definition changes on one runner', () => {
  it('validates each against the one before: two mailboxes with one address, one is refused', async () => {
    const actor = { name: 'root', role: 'admin' as const };
    const results = await Promise.allSettled([
      ops.create('mailbox', box('m1', { address: 'same@example.com' }), actor),
      ops.create('mailbox', box('m2', { address: 'same@example.com' }), actor),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/address: "same@example.com" is already used by mailbox "m1" \(api\)/);
    expect(running.mailboxes.map((m) => m.id)).toEqual(['ann', 'm1']);
  });
});

describe('a change on another runner between validation and write', () => {
  it('makes the change validate again: a clashing address is refused, not written beside it', async () => {
    const clock = { now: () => now };
    let first = true;
    // The other runner's write lands after this one validated, before it writes.
    const racing = new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown;
        return async (fn: Parameters<Store['transaction']>[0]) => {
          if (first) {
            first = false;
            await target.definitions.create({ kind: 'mailbox', id: 'other', body: box('other', { address: 'same@example.com' }), changedBy: 'runner-2', changedAt: now });
          }
          return target.transaction(fn);
        };
      },
    });
    const racingOps = new DefinitionOperations({ store: racing, clock, runtime });
    await expect(racingOps.create('mailbox', box('mine', { address: 'same@example.com' }), { name: 'root', role: 'admin' }))
      .rejects.toThrow(/address: "same@example.com" is already used by mailbox "other" \(api\)/);
    expect((await store.definitions.list()).map((d) => d.id)).toEqual(['ann', 'other', 'plain']);
  });
});
