import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { openStore, type Store } from '../store/index.js';
import { createStatusPages } from './status.js';
import { seedFailure } from '../../../test/support/seed.js';

const NOW = 1_800_000_000_000;
const HOSTILE = '<script>alert("x")</script>';
let store: Store;
let app: express.Express;

beforeEach(async () => {
  const mailboxes = ['ann', 'bob', 'cat', 'dan'].map((id) => `  - { id: ${id}, address: ${id}@example.com, profile: corp, credentials: { username: ${id}, password: "\${PW}" } }`);
  const config: Config = parseConfig(`
organization: { id: acme }
profiles: [{ id: corp, owner: ops@example.com, incoming: { host: imap.example.com } }]
mailboxes:
${mailboxes.join('\n')}
`, '/etc/mailsync.yaml', { env: { PW: 'pw' } });
  store = await openStore({ path: ':memory:' });
  const clock = { now: () => NOW };
  // ann healthy; bob disabled, and the server's words are hostile HTML; cat intermittent; dan never ran.
  await store.runs.finishRun(await store.runs.startRun('ann', 'incoming', NOW - 5_000, false), { result: 'success', at: NOW - 4_000, itemsProcessed: 3, itemsFailed: 0 });
  await seedFailure(store, {
    mailboxId: 'bob', profileId: 'corp', direction: 'incoming', startedAt: NOW - 3_000, at: NOW - 3_000, code: 'credentials_rejected', message: HOSTILE,
    class: 'permanent', scope: 'mailbox', disable: true, nextAttemptAt: null,
  });
  await store.mail.commitBatch({ mailboxId: 'bob', folder: '<b>Inbox</b>', uidvalidity: 1, lastUid: 1, emails: [], failures: [{ uid: 1, code: 'item_too_large', detail: HOSTILE, size: 1 }], at: NOW });
  await seedFailure(store, {
    mailboxId: 'cat', profileId: 'corp', direction: 'incoming', startedAt: NOW - 2_000, at: NOW - 2_000, code: 'connect_failed', message: 'refused',
    class: 'transient', scope: 'server', disable: false, nextAttemptAt: NOW + 300_000,
  });
  // dan's server has no METADATA: Test & Enable passed, but it could not mark the mailbox.
  await store.lifecycle.requestTest('dan', 'oncall', false, NOW - 10_000, false);
  await store.lifecycle.setTestState('dan', 'running', NOW - 9_000);
  await store.lifecycle.setTestState('dan', 'completed', NOW - 8_000, {
    checks: [{ direction: 'incoming', ok: true, steps: ['authenticated', 'server has no METADATA: ownership not marked'] }], untested: [], ownership: 'unsupported',
  });
  const operations = new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
  app = express().use('/', createStatusPages({ config: () => config, store, clock, operations }));
});
afterEach(() => store.close());

describe('status page', () => {
  it('shows the product\'s summary, each number linking to its mailboxes', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a class="n" href="mailboxes">4</a> mailboxes are configured');
    expect(res.text).toContain('<a class="n healthy" href="mailboxes?health=healthy">1</a> healthy and running');
    expect(res.text).toContain('<a class="n failing" href="mailboxes?health=failing">1</a> with continuous errors');
    expect(res.text).toContain('<span class="n warning">2</span> running with warnings');
    expect(res.text).toContain('<a class="n intermittent" href="mailboxes?health=intermittent">1</a>');
    expect(res.text).toContain('<a class="n inactive" href="mailboxes?health=inactive">1</a>');
    expect(res.text).toContain('<a class="testing" href="mailboxes?health=testing&amp;long=1">0</a> of them taking over 15 min');
    expect(res.text).not.toContain('<script>');
  });

  it('lists the mailboxes behind a number, and searches', async () => {
    const failing = await request(app).get('/mailboxes?health=failing');
    expect(failing.text).toContain('1 mailboxes.');
    expect(failing.text).toContain('<a href="mailboxes/bob">bob</a>');
    expect(failing.text).not.toContain('mailboxes/ann');
    const search = await request(app).get('/mailboxes?q=DAN');
    expect(search.text).toContain('<a href="mailboxes/dan">dan</a>');
    expect(search.text).toContain('1 mailboxes.');
  });

  it('shows one mailbox with its alert records and runs, escaping what servers said', async () => {
    const res = await request(app).get('/mailboxes/bob');
    expect(res.status).toBe(200);
    expect(res.text).toContain('disabled: <code>credentials_rejected</code>');
    expect(res.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(res.text).toContain('&lt;b&gt;Inbox&lt;/b&gt;');
    expect(res.text).not.toContain(HOSTILE);
    expect(res.text).not.toContain('<b>Inbox');
    expect(res.text).toMatch(/Failed runs \(the last 100 are kept\)/);
    expect((await request(app).get('/mailboxes/nobody')).status).toBe(404);
  });

  it('says prominently when the server cannot store the ownership mark, and marks the mailbox in lists', async () => {
    const page = await request(app).get('/mailboxes/dan');
    expect(page.text).toContain('<p class="notice" role="status"><strong>Warning:</strong> ownership not supported by this server:');
    expect(page.text).toContain('configured_in_another_org cannot fire');
    expect((await request(app).get('/mailboxes/ann')).text).not.toContain('class="notice"');
    const list = await request(app).get('/mailboxes');
    expect(list.text).toMatch(/<a href="mailboxes\/dan">dan<\/a> <span class="mark" title="ownership not supported by this server:[^"]*">no ownership mark<\/span>/);
    expect(list.text.match(/no ownership mark/g)).toHaveLength(1);
  });
});
