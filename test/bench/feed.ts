/**
 * bench:feed — BENCH_EMAILS (default 50,000) stored emails read through the change feed with their
 * raw bytes (GET /api/changes?include=raw over real HTTP with Accept: multipart/mixed, each part
 * read as a consumer would; the JSON + base64 form is timed too and printed for comparison), against reading the same changes and raw bytes straight from the store in the same process (the
 * baseline). Then BENCH_WEBHOOKS (default 5,000) webhook deliveries to a local receiver through
 * the delivery worker. RSS is sampled while streaming: it must stay flat (no whole-feed buffering).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../exporter/src/config/index.js';
import { readRawEmail } from '../../exporter/src/feed/raw.js';
import { feedRoutes } from '../../exporter/src/feed/routes.js';
import { createApi } from '../../exporter/src/http/api.js';
import { createLogger } from '../../exporter/src/log.js';
import { EmailOperations } from '../../exporter/src/mailboxes/emails.js';
import { MailboxOperations } from '../../exporter/src/mailboxes/operations.js';
import { openStore, type Change, type FolderBatch, type Store } from '../../exporter/src/store/index.js';
import { registerWebhookMetrics } from '../../exporter/src/webhooks/metrics.js';
import { WebhookWorker } from '../../exporter/src/webhooks/worker.js';
import { Registry } from 'prom-client';
import { fmt, median, profiled, progress, sizeFromEnv, timed } from './common.js';

const EMAILS = sizeFromEnv('BENCH_EMAILS', 50_000);
const WEBHOOKS = sizeFromEnv('BENCH_WEBHOOKS', 5_000);
const ROUNDS = sizeFromEnv('BENCH_ROUNDS', 5);
const PAGE = 1_000;
const TOKEN = 'bench-viewer-token-0123456789';
const clock = { now: () => Date.now() };
const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-feed-'));
const rss = () => Math.round(process.memoryUsage().rss / 1_048_576);

/** Small to mid-size text mail (2-12 KB): the feed's cost is per change, not per byte of body. */
function message(n: number): Buffer {
  const body = `Ligne du message ${n}: tout va bien, merci.\r\n`.repeat(40 + (n % 200));
  return Buffer.from(`Message-ID: <feed-${n}@bench.example>\r\nFrom: sender${n % 50}@bench.example\r\nTo: bench@bench.example\r\n`
    + `Subject: Rapport ${n}\r\nDate: ${new Date(Date.UTC(2026, 0, 1) + n * 60_000).toUTCString()}\r\n\r\n${body}`);
}

interface Measured { seconds: number; cpuSeconds: number; value: number }

/** Wall time (the figure) and this process's CPU time (what the work cost, whatever the load). */
async function measured(fn: () => Promise<number>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const { seconds, value } = await timed(fn);
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, value };
}

async function seed(store: Store, from: number, count: number): Promise<number> {
  let bytes = 0;
  for (let start = from; start < from + count; start += 500) {
    const emails = [];
    for (let n = start; n < Math.min(start + 500, from + count); n++) {
      const raw = message(n);
      bytes += raw.length;
      emails.push({ uid: n + 1, raw, sha256: createHash('sha256').update(raw).digest(), headers: { messageId: `<feed-${n}@bench.example>`, from: `sender${n % 50}@bench.example`, to: 'bench@bench.example', cc: null, subject: `Rapport ${n}`, sentAt: null } });
    }
    const batch: FolderBatch = { mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: emails[emails.length - 1]!.uid, emails, failures: [], at: clock.now() };
    await store.mail.commitBatch(batch);
  }
  return bytes;
}

try {
  writeFileSync(path.join(dir, 'mailsync.yaml'), stringify({
    store: { path: './bench.db' },
    organization: { id: 'bench', processOnlyApproved: false },
    api: { tokens: [{ name: 'bench', role: 'viewer', token: '${BENCH_TOKEN}' }] },
    profiles: [{ id: 'p', incoming: { host: 'localhost', port: 1 } }],
    mailboxes: [{ id: 'm', address: 'bench@bench.example', profile: 'p', credentials: { username: 'u', password: '${BENCH_TOKEN}' } }],
    webhooks: [{ id: 'sink', url: 'http://127.0.0.1:1/placeholder', secret: '${BENCH_TOKEN}', concurrency: 16, events: ['email_stored'] }],
  }));
  const config = loadConfigFile(path.join(dir, 'mailsync.yaml'), { env: { BENCH_TOKEN: TOKEN } });
  const store = await openStore({ path: config.store.path });
  progress(`seeding ${EMAILS} emails straight through the store (not timed)`);
  const bytes = await seed(store, 0, EMAILS);
  progress(`seeded ${fmt(bytes / 1_048_576)} MB; rss ${rss()} MB`);

  const stopping = new AbortController();
  const operations = new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
  const app = express().use('/api', createApi({
    operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => 1_000_000,
    feed: (helpers) => feedRoutes({ store, clock, stopping: stopping.signal, wakeWebhooks: () => undefined }, helpers),
  }));
  const http = createServer(app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api`;
  const rssBefore = rss();
  let rssPeakStreaming = rssBefore;
  // RSS every 100 ms while the consumer reads: flat means it levels off after the first pages instead of growing with the feed.
  const rssByPage: number[] = [];
  const page = async (after: string, accept: string) => {
    const res = await fetch(`${base}/changes?after=${after}&limit=${PAGE}&include=raw`, { headers: { authorization: `Bearer ${TOKEN}`, accept } });
    if (res.status !== 200) throw new Error(`GET /api/changes answered ${res.status}: ${await res.text()}`);
    return res;
  };
  const sampleRss = () => {
    rssByPage.push(rss());
    rssPeakStreaming = Math.max(rssPeakStreaming, rssByPage[rssByPage.length - 1]!);
  };
  // The JSON form, as before: each page parsed and every raw decoded from base64 (once: for comparison).
  const json = await measured(async () => {
    let after = '0';
    let n = 0;
    for (;;) {
      const body = await (await page(after, 'application/json')).json() as { changes: (Pick<Change, 'seq'> & { raw: string })[]; next: string };
      if (body.changes.length === 0) return n;
      for (const c of body.changes) if (Buffer.from(c.raw, 'base64').length > 0) n += 1;
      after = body.next;
    }
  });
  // Baseline: the same pages of changes and raw bytes, read from the store in this process.
  const readStore = () => measured(async () => {
    let after = 0;
    let n = 0;
    for (;;) {
      const changes = await store.feed.changesAfter(after, PAGE);
      if (changes.length === 0) return n;
      for (const c of changes) if ((await readRawEmail(store, c.refId!))!.length > 0) n += 1;
      after = changes[changes.length - 1]!.seq;
    }
  });
  // The multipart form, read by a consumer in its own thread (test/bench/feed-consumer.ts).
  // A worker's entry cannot be TypeScript itself: a one-line script has tsx load it.
  const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./feed-consumer.ts', import.meta.url).href)}); })`;
  const consumer = new Worker(entry, { eval: true, workerData: { base, token: TOKEN, page: PAGE } });
  const answers: ((m: { n?: number; error?: string }) => void)[] = [];
  consumer.on('message', (m: { ready?: boolean; n?: number; error?: string }) => { if (!m.ready) answers.shift()?.(m); });
  await new Promise<void>((resolve, reject) => {
    consumer.once('message', () => resolve());
    consumer.once('error', reject);
  });
  const readFeed = (ahead: boolean) => measured(async () => {
    const sampler = setInterval(sampleRss, 100);
    const answer = await new Promise<{ n?: number; error?: string }>((resolve) => {
      answers.push(resolve);
      consumer.postMessage({ ahead });
    });
    clearInterval(sampler);
    if (answer.error) throw new Error(`the consumer thread failed: ${answer.error}`);
    return answer.n!;
  });
  // Rounds of baseline then feed, back to back: on a shared machine the load moves within seconds,
  // so each ratio compares runs under about the same load; the median round is reported.
  const rounds: { baseline: Measured; api: Measured }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push({ baseline: await profiled(`feed-baseline-${r}`, readStore), api: await profiled(`feed-multipart-${r}`, () => readFeed(true)) });
  // The same consumer asking for each page only once it has read the previous one (once: for comparison).
  const oneByOne = await readFeed(false);
  const ratios = rounds.map((x) => x.api.value / x.api.seconds / (x.baseline.value / x.baseline.seconds));
  const mid = rounds[ratios.indexOf(median(ratios))]!;
  const { baseline, api } = mid;
  if (rounds.some((x) => x.api.value !== EMAILS || x.baseline.value !== EMAILS) || json.value !== EMAILS || oneByOne.value !== EMAILS) {
    throw new Error(`read ${api.value} (multipart), ${oneByOne.value} (multipart, page by page), ${json.value} (JSON) and ${baseline.value} (store) of ${EMAILS} emails`);
  }
  await consumer.terminate();
  http.close();

  // Webhooks: a fresh batch of changes with an outbox row each, delivered to a local receiver.
  let received = 0;
  let allIn!: () => void;
  const done = new Promise<void>((resolve) => { allIn = resolve; });
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('ok');
      if (++received === WEBHOOKS) allIn();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const webhook = { ...config.webhooks[0]!, url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook` };
  await store.feed.setWebhooks([{ id: webhook.id, kinds: webhook.events }]);
  await seed(store, EMAILS, WEBHOOKS);
  const metrics = registerWebhookMetrics(new Registry(), { webhooks: () => [webhook.id], outbox: () => store.feed.outboxStats(), now: clock.now });
  const worker = new WebhookWorker({ store, clock, logger: createLogger('silent'), metrics, webhooks: () => [webhook] });
  const hooks = await timed(() => profiled('feed-webhooks', async () => {
    worker.start();
    await done;
  }));
  await worker.stop();
  sink.close();
  stopping.abort();
  await store.close();

  const feedPerS = api.value / api.seconds;
  const basePerS = baseline.value / baseline.seconds;
  const hooksPerS = WEBHOOKS / hooks.seconds;
  console.log(`emails: ${EMAILS} (${fmt(bytes / EMAILS / 1_024, 1)} KB average), pages of ${PAGE}`);
  const line = (m: Measured) => `${fmt(m.seconds, 2)} s, ${fmt(m.value / m.seconds)} emails/s (CPU ${fmt(m.cpuSeconds, 2)} s)`;
  console.log(`rounds: ratio ${ratios.map((r) => fmt(r, 2)).join(' / ')}; the median round:`);
  console.log(`baseline (store, same process): ${line(baseline)}`);
  console.log(`feed API with raw bytes, multipart/mixed, next page asked for while one is read: ${line(api)}; CPU ratio ${fmt(baseline.cpuSeconds / api.cpuSeconds, 2)}`);
  console.log(`feed API with raw bytes, multipart/mixed, page by page (once): ${line(oneByOne)}; ratio ${fmt(oneByOne.value / oneByOne.seconds / basePerS, 2)}`);
  console.log(`feed API with raw bytes, JSON + base64 (once): ${line(json)}; ratio ${fmt(json.value / json.seconds / basePerS, 2)}`);
  console.log(`rss while streaming: ${rssBefore} MB before, ${rssPeakStreaming} MB peak (grew ${rssPeakStreaming - rssBefore} MB)`);
  const at = (q: number) => rssByPage[Math.min(rssByPage.length - 1, Math.floor(q * rssByPage.length))] ?? rssBefore;
  console.log(`rss at 10 % / 25 % / 50 % / 75 % / 100 % of the reads: ${[0.1, 0.25, 0.5, 0.75, 1].map(at).join(' / ')} MB`);
  console.log(`webhooks: ${WEBHOOKS} deliveries in ${fmt(hooks.seconds, 2)} s, ${fmt(hooksPerS)}/s (concurrency ${webhook.concurrency})`);
  console.log(`RESULT feed_emails_per_s=${fmt(feedPerS)} baseline_emails_per_s=${fmt(basePerS)} ratio=${fmt(feedPerS / basePerS, 2)} webhook_per_s=${fmt(hooksPerS)} peak_rss_mb=${rssPeakStreaming}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
