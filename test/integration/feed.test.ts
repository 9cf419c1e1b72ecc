import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';
import { WebhookReceiver } from '../harness/webhook-receiver.js';

/**
 * The way out, end to end with the real runner process, Dovecot and a webhook receiver: a
 * consumer follows /api/changes across a SIGKILL and a restart; the webhook receiver is down, then
 * slow, then fails one event, and every event still arrives, signed, the failing one through the
 * dead-letter state and an operator's replay.
 */
const TOKEN = 'operator-token-for-the-feed-test';
const SECRET = 'webhook-secret-for-the-feed-test-0123456789';
let dovecot: Dovecot;
let receiver: WebhookReceiver;
let lab: ReturnType<typeof writeLabConfig>;
let user: { name: string; password: string };

interface FeedChange { cursor: string; seq: number; kind: string; mailboxId: string; data: { messageId: string; subject: string } }

beforeAll(async () => {
  dovecot = await Dovecot.start();
  user = dovecot.addUser('feeder');
  receiver = await WebhookReceiver.create(SECRET);
  process.env.LAB_FEED_TOKEN = TOKEN;
  process.env.LAB_FEED_SECRET = SECRET;
  lab = writeLabConfig(dovecot, {
    mailboxes: [{ id: 'feed', user: user.name }],
    sync: { jitterRatio: 0, pollIntervalSeconds: 1 },
    extra: {
      api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_FEED_TOKEN}' }] },
      // A small budget: 8 attempts, 1 s doubling to 2 s (about 13 s), and 1 s to answer.
      webhooks: [{
        id: 'crm', url: receiver.url, events: ['email_stored'], secret: '${LAB_FEED_SECRET}',
        timeoutSeconds: 1, maxAttempts: 8, retryInitialSeconds: 1, retryMaxSeconds: 2, concurrency: 4,
      }],
    },
  });
}, 60_000);

afterAll(async () => {
  await receiver?.down();
  await dovecot?.stop();
});

async function startRunner(): Promise<{ run: Running; url: string }> {
  const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
  return { run, url: String(url) };
}

function deliver(subjects: string[]): string[] {
  return subjects.map((subject, i) => {
    const raw = makeMessage(i, { subject, to: `${user.name}@lab.example` });
    dovecot.deliver(user.name, 'INBOX', raw);
    return /Message-ID: (<[^>]+>)/.exec(raw.toString())![1]!;
  });
}

/** A consumer: long-polls from its cursor and keeps every change it is given, in order. */
async function follow(url: string, state: { cursor: string; seen: FeedChange[] }, until: number): Promise<void> {
  await waitFor(async () => {
    const res = await callApi(url, TOKEN, 'GET', `/changes?after=${state.cursor}&limit=3&wait=2`);
    expect(res.status).toBe(200);
    const page = await res.json() as { changes: FeedChange[]; next: string };
    state.seen.push(...page.changes);
    state.cursor = page.next;
    return state.seen.length;
  }, { what: `${until} changes in the feed`, until: (n) => n >= until, timeoutMs: 60_000, intervalMs: 1 });
}

describe('the change feed and webhooks with the real runner', () => {
  it('gives a consumer every email exactly once and in order across a SIGKILL, and delivers every webhook event', async () => {
    const ids = deliver(['one', 'two', 'three', 'four', 'five']);
    let { run, url } = await startRunner();
    const consumer = { cursor: '0', seen: [] as FeedChange[] };
    await follow(url, consumer, 3);
    // Killed while the consumer is mid-way; more mail arrives while the runner is down.
    run.child.kill('SIGKILL');
    await run.exited;
    ids.push(...deliver(['six', 'seven', 'eight']));
    ({ run, url } = await startRunner());
    try {
      await follow(url, consumer, ids.length);
      expect(consumer.seen.map((c) => c.kind)).toEqual(ids.map(() => 'email_stored'));
      expect(consumer.seen.map((c) => c.data.messageId)).toEqual(ids);
      const seqs = consumer.seen.map((c) => c.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

      // The receiver was down all along: every delivery has failed at least once.
      const deliveries = async () => (await (await callApi(url, TOKEN, 'GET', '/webhooks/deliveries?limit=100')).json() as { items: { id: number; state: string; attempts: number; lastError: string | null }[] }).items;
      await waitFor(deliveries, { what: 'every delivery to have failed once', until: (d) => d.length === ids.length && d.every((x) => x.attempts >= 1) });
      // Then slow: requests are held past the 1 s timeout.
      receiver.setMode('slow');
      await receiver.up();
      await waitFor(deliveries, { what: 'a delivery to time out', until: (d) => d.some((x) => x.lastError?.startsWith('no answer within') === true) });
      // Then up, but failing one new event every time.
      receiver.failWhen = (r) => r.json.change.data.subject === 'poison';
      receiver.setMode('ok');
      const [poison] = deliver(['poison']);
      await waitFor(() => receiver.delivered().size, { what: 'every other event delivered', until: (n) => n === ids.length, timeoutMs: 60_000 });
      const dead = await waitFor(async () => (await (await callApi(url, TOKEN, 'GET', '/webhooks/deliveries?state=dead')).json() as { items: { id: number; attempts: number }[] }).items,
        { what: 'the failing event to be dead-lettered', until: (d) => d.length === 1, timeoutMs: 60_000 });
      expect(dead[0]!.attempts).toBe(8);
      expect(receiver.received.filter((r) => r.json.change.data.messageId === poison).every((r) => r.status === 500)).toBe(true);

      // An operator replays it once the receiver is fixed.
      receiver.failWhen = () => false;
      const replay = await callApi(url, TOKEN, 'POST', `/webhooks/deliveries/${dead[0]!.id}/replay`);
      expect(replay.status).toBe(200);
      await waitFor(() => receiver.delivered().has(dead[0]!.id), { what: 'the replayed delivery to arrive' });
      const all = [...receiver.delivered().values()].map((r) => r.json.change.data.messageId);
      expect(new Set(all)).toEqual(new Set([...ids, poison]));
      // Every request, whatever its answer, carried a valid signature.
      expect(receiver.received.every((r) => r.signature.ok)).toBe(true);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/mailsync_webhook_deliveries_total\{webhook="crm",result="dead"\} 1/);
    } finally {
      await run.stop();
    }
  }, 180_000);

  it('answers a cursor that is not one with 400 naming the parameter', async () => {
    const { run, url } = await startRunner();
    try {
      const res = await callApi(url, TOKEN, 'GET', '/changes?after=not-a-cursor');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^after: /);
    } finally {
      await run.stop();
    }
  }, 60_000);
});
