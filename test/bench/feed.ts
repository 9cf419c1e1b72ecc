/**
 * bench:feed — BENCH_EMAILS (default 50,000) stored emails read through the change feed with their
 * raw bytes (GET /api/changes?include=raw over real HTTP, parsed and decoded as a consumer would),
 * against reading the same changes and raw bytes straight from the store in the same process (the
 * baseline). Then BENCH_WEBHOOKS (default 5,000) webhook deliveries to a local receiver through
 * the delivery worker. RSS is sampled while streaming: it must stay flat (no whole-feed buffering).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
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
import { fmt, progress, sizeFromEnv, timed } from './common.js';

const EMAILS = sizeFromEnv('BENCH_EMAILS', 50_000);
const WEBHOOKS = sizeFromEnv('BENCH_WEBHOOKS', 5_000);
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

  // Baseline: the same pages of changes and raw bytes, read from the store in this process.
  const baseline = await timed(async () => {
    let after = 0;
    let n = 0;
    for (;;) {
      const page = await store.feed.changesAfter(after, PAGE);
      if (page.length === 0) return n;
      for (const c of page) if ((await readRawEmail(store, c.refId!))!.length > 0) n += 1;
      after = page[page.length - 1]!.seq;
    }
  });

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
  // RSS after each page: flat means it levels off after the first pages instead of growing with the feed.
  const rssByPage: number[] = [];
  const api = await timed(async () => {
    let after = '0';
    let n = 0;
    for (;;) {
      const res = await fetch(`${base}/changes?after=${after}&limit=${PAGE}&include=raw`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (res.status !== 200) throw new Error(`GET /api/changes answered ${res.status}: ${await res.text()}`);
      const page = await res.json() as { changes: (Pick<Change, 'seq'> & { raw: string })[]; next: string };
      if (page.changes.length === 0) return n;
      for (const c of page.changes) if (Buffer.from(c.raw, 'base64').length > 0) n += 1;
      after = page.next;
      rssByPage.push(rss());
      rssPeakStreaming = Math.max(rssPeakStreaming, rssByPage[rssByPage.length - 1]!);
    }
  });
  if (api.value !== EMAILS || baseline.value !== EMAILS) throw new Error(`read ${api.value} (API) and ${baseline.value} (store) of ${EMAILS} emails`);
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
  const hooks = await timed(async () => {
    worker.start();
    await done;
  });
  await worker.stop();
  sink.close();
  stopping.abort();
  await store.close();

  const feedPerS = api.value / api.seconds;
  const basePerS = baseline.value / baseline.seconds;
  const hooksPerS = WEBHOOKS / hooks.seconds;
  console.log(`emails: ${EMAILS} (${fmt(bytes / EMAILS / 1_024, 1)} KB average), pages of ${PAGE}`);
  console.log(`baseline (store, same process): ${fmt(baseline.seconds, 2)} s, ${fmt(basePerS)} emails/s`);
  console.log(`feed API with raw bytes (HTTP, JSON, base64): ${fmt(api.seconds, 2)} s, ${fmt(feedPerS)} emails/s`);
  console.log(`rss while streaming: ${rssBefore} MB before, ${rssPeakStreaming} MB peak (grew ${rssPeakStreaming - rssBefore} MB)`);
  const at = (q: number) => rssByPage[Math.min(rssByPage.length - 1, Math.floor(q * rssByPage.length))] ?? rssBefore;
  console.log(`rss after 10 % / 25 % / 50 % / 75 % / 100 % of the pages: ${[0.1, 0.25, 0.5, 0.75, 1].map(at).join(' / ')} MB`);
  console.log(`webhooks: ${WEBHOOKS} deliveries in ${fmt(hooks.seconds, 2)} s, ${fmt(hooksPerS)}/s (concurrency ${webhook.concurrency})`);
  console.log(`RESULT feed_emails_per_s=${fmt(feedPerS)} baseline_emails_per_s=${fmt(basePerS)} ratio=${fmt(feedPerS / basePerS, 2)} webhook_per_s=${fmt(hooksPerS)} peak_rss_mb=${rssPeakStreaming}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
