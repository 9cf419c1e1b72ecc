/**
 * bench:scrape — cost of /metrics for a large fleet, measured as Prometheus sees it: a real
 * `mailsync run` process over a store holding BENCH_MAILBOXES mailboxes (default 10,000) in a
 * realistic spread of states, scraped over HTTP. In the same run, prom-client serialises the same
 * number of plain labelled gauge series in this process: the baseline of the ratio.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ErrorCode } from '../../exporter/src/classify/index.js';
import { openStore, type Store, type StoreTx } from '../../exporter/src/store/index.js';
import { seedFailure } from '../support/seed.js';
import { assertBuilt, MAILSYNC_BIN } from '../harness/cli.js';
import { freePort } from '../harness/ports.js';
import { fmt, median, progress, promClientBaselineMs, seededRandom, sizeFromEnv } from './common.js';

const MAILBOXES = sizeFromEnv('BENCH_MAILBOXES', 10_000);
const ROUNDS = sizeFromEnv('BENCH_ROUNDS', 15);
const PROFILES = 10;

assertBuilt();
const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-scrape-'));
const closedPort = await freePort();
const now = Date.now();
try {
  const config = {
    server: { listen: `127.0.0.1:${await freePort()}` },
    store: { path: './bench.db' },
    log: { level: 'error' },
    organization: { id: 'bench', processOnlyApproved: false },
    // The runner must stay quiet while it is measured: first cycles are spread over half a day.
    sync: { pollIntervalSeconds: 86_400, jitterRatio: 0.5 },
    profiles: Array.from({ length: PROFILES }, (_, p) => ({
      id: `p${p}`, owner: `owner${p}@bench.example`, incoming: { host: '127.0.0.1', port: closedPort },
      outgoing: { host: '127.0.0.1', port: closedPort }, minPollIntervalSeconds: 86_400,
    })),
    mailboxes: Array.from({ length: MAILBOXES }, (_, i) => ({
      id: `mb-${i}`, address: `user${i}@bench.example`, profile: `p${i % PROFILES}`, ...(i % 10 === 0 ? { outgoing: true } : {}),
      credentials: { username: 'u', password: '${BENCH_PW}' },
    })),
  };
  writeFileSync(path.join(dir, 'mailsync.yaml'), stringify(config));

  progress(`seeding ${MAILBOXES} mailboxes: 80% healthy, 8% intermittent, 5% disabled, 5% never run, 2% in Test & Enable`);
  const store = await openStore({ path: path.join(dir, 'bench.db') });
  await seed(store, now);
  await store.close();

  // BENCH_RUNNER_CPU_PROFILE=<dir>: the runner writes a V8 CPU profile of its whole life there when it stops.
  const profileDir = process.env.BENCH_RUNNER_CPU_PROFILE;
  const nodeFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=scrape-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...nodeFlags, MAILSYNC_BIN, 'run', '--config', path.join(dir, 'mailsync.yaml')], {
    env: { ...process.env, BENCH_PW: 'x' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://${config.server.listen}/metrics`;
  try {
    await waitUntilServing(url);
    await fetch(url).then((r) => r.text()); // warm-up: statement caches, JIT
    const scrapes: number[] = [];
    let payload = '';
    for (let i = 0; i < ROUNDS; i++) {
      const t = process.hrtime.bigint();
      payload = await (await fetch(url)).text();
      scrapes.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const memory = procStatus(child.pid as number);
    const samples = payload.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const series = samples.length;
    const mailboxSeries = samples.filter((l) => l.startsWith('mailsync_mailbox_')).length;
    progress(`mailsync scrape over HTTP: median ${fmt(median(scrapes), 1)} ms, ${series} series, ${fmt(payload.length / 1e6, 1)} MB; ` +
      `exporter RSS ${memory.rssMb} MB (peak ${memory.peakMb} MB, config parsing included)`);

    const baseline = await promClientBaselineMs(series, ROUNDS);
    progress(`prom-client baseline: median ${fmt(baseline, 1)} ms to serialise ${series} labelled gauge series`);
    console.log(`RESULT mailboxes=${MAILBOXES} scrape_ms_median=${fmt(median(scrapes), 1)} series=${series} ` +
      `series_per_mailbox=${fmt(mailboxSeries / MAILBOXES, 1)} baseline_ms=${fmt(baseline, 1)} ratio=${fmt(median(scrapes) / baseline, 2)} ` +
      `rss_mb=${memory.rssMb} payload_mb=${fmt(payload.length / 1e6, 1)} peak_rss_mb=${memory.peakMb}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** A deterministic spread of states, written through the store's own API and the lifecycle's. */
async function seed(store: Store, at: number): Promise<void> {
  // One transaction: 10,000 mailboxes' worth of small writes.
  await store.transaction((tx) => seedAll(tx, at));
}

async function seedAll(store: StoreTx, at: number): Promise<void> {
  const random = seededRandom(7);
  const codes = ['credentials_rejected', 'secure_connection_failed', 'mailbox_not_found', 'insufficient_permissions'] as const;
  for (let i = 0; i < MAILBOXES; i++) {
    const id = `mb-${i}`;
    const r = random();
    if (r < 0.05) continue;
    const profileId = `p${i % PROFILES}`;
    const ok = async (t: number) => store.runs.finishRun(await store.runs.startRun(id, 'incoming', t - 1_000, false), { result: 'success', at: t, itemsProcessed: Math.floor(random() * 500), itemsFailed: 0 });
    const fail = (t: number, code: ErrorCode, disable: boolean) => seedFailure(store, {
      mailboxId: id, profileId, startedAt: t - 1_000, at: t, code, message: 'bench',
      class: disable ? 'permanent' : 'transient', scope: 'mailbox', disable, nextAttemptAt: disable ? null : t + 86_400_000,
    });
    await ok(at - 3 * 3_600_000);
    if (r < 0.13) await fail(at - 60_000, 'connect_failed', false);
    else if (r < 0.18) await fail(at - 60_000, codes[i % codes.length]!, true);
    else if (r < 0.2) await store.lifecycle.requestTest(id, 'bench', false, at - 120_000);
    else await ok(at - 60_000);
    if (random() < 0.03) {
      await store.mail.commitBatch({ mailboxId: id, folder: 'INBOX', uidvalidity: 1, lastUid: 5, emails: [], failures: [{ uid: 5, code: 'item_too_large', detail: 'x', size: 1 }], at });
    }
  }
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!await fetch(url).then((r) => r.ok, () => false)) {
    if (Date.now() > deadline) throw new Error(`mailsync did not serve ${url} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Current and peak resident memory of a process, from /proc. */
function procStatus(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}
