import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { createApi } from '../http/api.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { decideIncomingFilter } from '../policy/incoming-filter.js';
import { nextDeliveryAttempt, retryWindowSeconds } from '../policy/webhook-retry.js';
import { openStore, type Store } from '../store/index.js';
import { referencedMessageIds } from '../incoming/headers.js';
import { signPayload, verifySignature } from '../webhooks/signature.js';
import { waitFor } from '../../../test/harness/wait.js';
import { batch } from '../../../test/support/store-suite.js';
import { applyIncomingFilter } from './filter.js';
import { boundaryOf, readFeedParts } from '../../../test/harness/feed-multipart.js';
import { RAW_WHOLE_BELOW } from './raw.js';
import { feedRoutes } from './routes.js';

const NOW = 1_800_000_000_000;
const TOKEN = 'viewer-token-0123456789';
const OPERATOR = 'operator-token-0123456789';

let store: Store;
beforeEach(async () => {
  store = await openStore({ path: ':memory:' });
});
afterEach(() => store.close());

// The feed's store cases (commit order, rollback, outbox, prune, replay) are in test/support/store-suite.ts, run on both drivers.

describe('the incoming filter', () => {
  const responses = { mode: 'responses' as const, knownSenders: [] };
  it('publishes replies to email mailsync sent and records the rest as no_correlation_match', async () => {
    await store.outgoing.queue({ mailboxId: 'ann', messageId: '<sent1@ann>', envelopeFrom: 'ann@x', recipients: ['b@x'], subject: 's', raw: Buffer.from('x'), at: NOW, by: 'op' });
    const b = batch('ann', [1, 2]);
    b.emails[0]!.raw = Buffer.from('From: b@x\r\nIn-Reply-To: <sent1@ann>\r\nReferences: <older@b>\r\n <sent1@ann>\r\n\r\nthanks\r\n');
    await applyIncomingFilter(store, responses, b.emails, b.failures);
    expect(b.emails.map((e) => e.publish)).toEqual([undefined, false]);
    expect(b.failures).toMatchObject([{ uid: 2, code: 'no_correlation_match' }]);
    await store.mail.commitBatch(b);
    expect((await store.feed.changesAfter(0, 10)).filter((c) => c.kind === 'email_stored').map((c) => c.data.uid)).toEqual([1]);
    expect(await store.mail.listItemFailures('ann')).toMatchObject([{ uid: 2, code: 'no_correlation_match' }]);
  });

  it('decides known-senders on the From address, case-insensitively', () => {
    const filter = { mode: 'known-senders' as const, knownSenders: ['boss@example.com'] };
    expect(decideIncomingFilter(filter, { from: ['boss@example.com'], referenced: [] }, () => false)).toEqual({ publish: true });
    expect(decideIncomingFilter(filter, { from: ['x@example.com'], referenced: [] }, () => false)).toMatchObject({ publish: false, code: 'no_recipient_match' });
    expect(decideIncomingFilter({ mode: 'all', knownSenders: [] }, { from: [], referenced: [] }, () => false)).toEqual({ publish: true });
  });

  it('reads In-Reply-To and References, folded or not', () => {
    expect(referencedMessageIds(Buffer.from('Subject: x\r\nreferences: <a@x>\r\n\t<b@x>\r\nIn-Reply-To: <b@x>\r\n\r\nReferences: <body@x>\r\n'))).toEqual(['<a@x>', '<b@x>']);
  });
});

describe('webhook retries and signatures', () => {
  const budget = { maxAttempts: 4, retryInitialSeconds: 10, retryMaxSeconds: 25 };
  it('backs off exponentially with bounded jitter, then dead-letters', () => {
    expect(nextDeliveryAttempt(budget, 1, NOW, 0.5)).toEqual({ retryAt: NOW + 10_000 });
    expect(nextDeliveryAttempt(budget, 2, NOW, 0)).toEqual({ retryAt: NOW + 16_000 });
    expect(nextDeliveryAttempt(budget, 3, NOW, 0.999)).toEqual({ retryAt: NOW + Math.round(25 * (0.8 + 0.4 * 0.999) * 1_000) });
    expect(nextDeliveryAttempt(budget, 4, NOW, 0.5)).toBe('dead');
    expect(retryWindowSeconds(budget)).toBe(10 + 20 + 25);
  });

  it('verifies its own signature, and refuses a stale, altered or missing one', () => {
    const header = signPayload('s3cret-s3cret-s3cret', '{"a":1}', 1_000);
    expect(verifySignature('s3cret-s3cret-s3cret', '{"a":1}', header, 1_100)).toEqual({ ok: true });
    expect(verifySignature('s3cret-s3cret-s3cret', '{"a":2}', header, 1_100)).toMatchObject({ ok: false, reason: 'signature does not match' });
    expect(verifySignature('s3cret-s3cret-s3cret', '{"a":1}', header, 1_400)).toMatchObject({ ok: false });
    expect(verifySignature('s3cret-s3cret-s3cret', '{"a":1}', undefined, 1_000)).toMatchObject({ ok: false });
  });
});

describe('GET /api/changes', () => {
  let app: express.Express;
  const stopping = new AbortController();
  beforeEach(() => {
    const config: Config = parseConfig(`
organization: { id: acme }
api: { tokens: [{ name: v, role: viewer, token: "${TOKEN}" }, { name: o, role: operator, token: "${OPERATOR}" }] }
profiles: [{ id: p, incoming: { host: imap.example.com } }]
`, '/etc/mailsync/mailsync.yaml', { env: {} });
    const clock = { now: () => Date.now() };
    const operations = new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
    const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
    app = express().use('/api', createApi({
      operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => 1_000_000,
      feed: (helpers) => feedRoutes({ store, clock, stopping: stopping.signal, wakeWebhooks: () => undefined, webhooks: () => configured }, helpers),
    }));
  });
  let configured = ['crm'];
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('pages through the changes with next, with the raw bytes when asked', async () => {
    await store.mail.commitBatch(batch('ann', [1, 2, 3]));
    const first = await request(app).get('/api/changes?limit=2&include=raw').set(auth).expect(200);
    expect(first.body.changes.map((c: { data: { uid: number } }) => c.data.uid)).toEqual([1, 2]);
    expect(Buffer.from(first.body.changes[0].raw, 'base64').toString()).toContain('body ann 1');
    const second = await request(app).get(`/api/changes?after=${first.body.next}`).set(auth).expect(200);
    expect(second.body.changes.map((c: { data: { uid: number } }) => c.data.uid)).toEqual([3]);
    const empty = await request(app).get(`/api/changes?after=${second.body.next}`).set(auth).expect(200);
    expect(empty.body).toEqual({ changes: [], next: second.body.next });
  });

  it('sends the raw bytes as message/rfc822 parts with Accept: multipart/mixed, large ones streamed, byte for byte', async () => {
    const b = batch('ann', [1, 2]);
    // Above RAW_WHOLE_BELOW: streamed from the store in slices; bytes of every value, CRLFs and dashes included.
    const large = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.from(Array.from({ length: RAW_WHOLE_BELOW + 4_321 }, (_, i) => (i * 7) % 256))]);
    b.emails[1]!.raw = large;
    b.emails[1]!.sha256 = createHash('sha256').update(large).digest();
    await store.mail.commitBatch(b);
    await store.lifecycle.disable('ann', 'incoming', { code: null, reason: 'r', by: 'op', at: NOW });
    const res = await request(app).get('/api/changes?include=raw').set({ ...auth, accept: 'multipart/mixed' })
      .buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      }).expect(200);
    const parts = [];
    for await (const part of readFeedParts(Readable.from([res.body as Buffer]), boundaryOf(res.headers['content-type'] as string))) parts.push(part);
    expect(parts.map((p) => p.type)).toEqual(['application/json', 'message/rfc822', 'application/json', 'message/rfc822', 'application/json']);
    const changes = parts.filter((p) => p.type === 'application/json').map((p) => JSON.parse(p.body.toString()) as { seq: number; kind: string; rawBytes?: number | null });
    expect(changes.map((c) => [c.kind, c.rawBytes])).toEqual([['email_stored', b.emails[0]!.raw.length], ['email_stored', large.length], ['direction_disabled', undefined]]);
    expect(parts[1]!.body.equals(b.emails[0]!.raw)).toBe(true);
    expect(parts[3]!.body.equals(large)).toBe(true);
    expect(res.headers['mailsync-next']).toBe(String(changes[2]!.seq));
    // Without include=raw: JSON parts only; without Accept: the JSON form.
    const plain = await request(app).get('/api/changes').set(auth).expect(200);
    expect(plain.body.changes).toHaveLength(3);
  });

  it('answers a cursor that is not one with 400 naming the parameter', async () => {
    for (const bad of ['abc', '-1', '1.5', '01', '99999999999999999999']) {
      const res = await request(app).get(`/api/changes?after=${bad}`).set(auth).expect(400);
      expect(res.body.error).toMatch(/^after: must be a cursor/);
    }
    expect((await request(app).get('/api/changes?after=1&after=2').set(auth).expect(400)).body.error).toMatch(/after/);
  });

  it('long-polls until a change commits', async () => {
    const waiting = request(app).get('/api/changes?wait=30').set(auth).then((r) => r);
    await waitFor(() => store.changes.listeners, { what: 'the long-poll to wait for a change' });
    await store.mail.commitBatch(batch('ann', [7]));
    const res = await waiting;
    expect(res.body.changes.map((c: { data: { uid: number } }) => c.data.uid)).toEqual([7]);
  });

  it('ends a long-poll at once when mailsync stops', async () => {
    const stop = new AbortController();
    const config = parseConfig(`
organization: { id: acme }
api: { tokens: [{ name: v, role: viewer, token: "${TOKEN}" }] }
profiles: [{ id: p, incoming: { host: imap.example.com } }]
`, '/etc/mailsync/mailsync.yaml', { env: {} });
    const clock = { now: () => Date.now() };
    const own = express().use('/api', createApi({
      operations: new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined }),
      emails: new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined }),
      tokens: () => config.api.tokens, maxEmailBytes: () => 1_000_000,
      feed: (helpers) => feedRoutes({ store, clock, stopping: stop.signal, wakeWebhooks: () => undefined }, helpers),
    }));
    const waiting = request(own).get('/api/changes?after=0&wait=60').set(auth).then((r) => r);
    await waitFor(() => store.changes.listeners, { what: 'the long-poll to wait for a change' });
    stop.abort();
    expect((await waiting).body).toEqual({ changes: [], next: '0' });
  });

  it('replays only dead deliveries, for operators', async () => {
    await store.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }]);
    await store.mail.commitBatch(batch('ann', [1]));
    const [d] = await store.feed.claimDeliveries('crm', NOW, 1, NOW);
    await request(app).post(`/api/webhooks/deliveries/${d!.id}/replay`).set(auth).expect(403);
    await request(app).post(`/api/webhooks/deliveries/${d!.id}/replay`).set({ authorization: `Bearer ${OPERATOR}` }).expect(409);
    await store.feed.recordAttempt(d!.id, { at: NOW, status: 500, error: 'x', next: 'dead' });
    expect((await request(app).get('/api/webhooks/deliveries?state=dead').set(auth).expect(200)).body.items).toHaveLength(1);
    configured = [];
    const gone = await request(app).post(`/api/webhooks/deliveries/${d!.id}/replay`).set({ authorization: `Bearer ${OPERATOR}` }).expect(409);
    expect(gone.body.error).toMatch(/webhook crm, which is no longer in the config/);
    configured = ['crm'];
    await request(app).post(`/api/webhooks/deliveries/${d!.id}/replay`).set({ authorization: `Bearer ${OPERATOR}` }).expect(200);
    expect(await store.feed.delivery(d!.id)).toMatchObject({ state: 'pending', attempts: 0 });
  });
});

describe('the webhooks and incoming filter config', () => {
  const base = (extra: string) => `
organization: { id: acme }
profiles: [{ id: p, incoming: { host: imap.example.com } }]
${extra}`;
  const problems = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    try {
      parseConfig(base(yaml), '/etc/mailsync/mailsync.yaml', { env });
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('refuses plain http off loopback, a short secret, a duplicate id and an unknown event, naming the key', () => {
    expect(problems(`webhooks:
  - { id: a, url: "http://crm.example.com/h", secret: "\${S}" }
  - { id: a, url: "http://127.0.0.1:9/h", secret: "\${SHORT}" }`, { S: 'x'.repeat(32), SHORT: 'short' })).toEqual([
      'webhooks[0].url: "http://crm.example.com/h" is plain http; use https, or set organization.allowNonTlsServers (loopback hosts are exempt)',
      'webhooks[1].id: "a" is used by another webhook',
      'webhooks[1].secret: must be at least 16 characters (try: openssl rand -hex 32)',
    ]);
    expect(problems('webhooks: [{ id: a, url: "https://x.example/h", secret: "${S}", events: [email_sent] }]', { S: 'x'.repeat(32) }).join()).toMatch(/^webhooks\[0\]\.events\[0\]: Invalid option/);
  });

  it('keeps a mailbox\'s incoming a boolean and reads its filter', () => {
    const config = parseConfig(base(`mailboxes:
  - { id: a, address: a@x.example, profile: p, credentials: { username: a, password: "\${S}" }, incoming: { filter: known-senders, knownSenders: [Boss@X.example] } }
  - { id: b, address: b@x.example, profile: p, credentials: { username: b, password: "\${S}" }, incoming: false }`), '/etc/m.yaml', { env: { S: 'pw' } });
    expect(config.mailboxes.map((m) => [m.incoming, m.incomingFilter])).toEqual([
      [true, { mode: 'known-senders', knownSenders: ['boss@x.example'] }],
      [false, { mode: 'all', knownSenders: [] }],
    ]);
  });
});
