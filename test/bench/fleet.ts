/**
 * bench:fleet: the whole fleet in one run. BENCH_MAILBOXES Dovecot users (default 10,000; Dovecot
 * tuned as in docs/performance.md) with 3 messages each, one real `mailsync run`, a real Prometheus
 * scraping it every second. Measured in the same run:
 * - cold start: from spawning the runner to every mailbox's first cycle done;
 * - a full no-change pass: with a 1 s poll interval every mailbox is due again at once, so the
 *   time for N more successful runs is the time of a pass over the fleet (checks/s = N / that);
 * - the runner's RSS with every session kept, and per session (over the RSS before the first login);
 * - /metrics scrape median while the fleet cycles, against prom-client serialising as many series
 *   in this process (the bench:scrape baseline);
 * - the event loop's p99 delay (prom-client's nodejs_eventloop_lag_p99_seconds, max over the run
 *   as Prometheus recorded it).
 * BENCH_PUSH=idle|none (default idle, the product's default) and BENCH_CONCURRENCY (default 16).
 */
import { Prometheus } from '../harness/prometheus.js';
import { waitFor } from '../harness/wait.js';
import { fmt, median, progress, promClientBaselineMs, sizeFromEnv } from './common.js';
import { cpuBetween, cpuSample, describeCpu, type GroupOf } from './cpu-account.js';
import { heapSnapshot, memoryMap, metricSum, procStatus, startFleetDovecot, startRunner, storeProbe } from './fleet-lab.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 10_000);
const CONCURRENCY = sizeFromEnv('BENCH_CONCURRENCY', 16);
const PUSH = (process.env.BENCH_PUSH ?? 'idle') as 'idle' | 'none';
if (PUSH !== 'idle' && PUSH !== 'none') throw new Error(`BENCH_PUSH must be "idle" or "none", not "${String(PUSH)}"`);

async function timedScrape(url: string): Promise<{ ms: number; series: number }> {
  const t = process.hrtime.bigint();
  const text = await (await fetch(`${url}/metrics`)).text();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length };
}

/**
 * The runner's memory as its own runtime metrics see it: V8's heap in use, memory outside it that
 * JS objects hold (buffers, sockets' native parts count only in RSS), and RSS.
 */
function mapText(pid: number): string {
  const m = memoryMap(pid);
  return `malloc's main heap ${fmt(m.brk)} MB, other anonymous ${fmt(m.anon)} MB, files ${fmt(m.file)} MB, ${m.threads} threads`;
}

async function memoryOf(url: string, pid: number): Promise<{ text: string; mb: Record<string, number>; perSession: (start: { mb: Record<string, number> }, n: number) => string }> {
  const mb: Record<string, number> = {};
  for (const [key, family] of [['heap_used', 'nodejs_heap_size_used_bytes'], ['heap_total', 'nodejs_heap_size_total_bytes'],
    ['external', 'nodejs_external_memory_bytes'], ['rss', 'process_resident_memory_bytes']] as const) {
    mb[key] = (await metricSum(url, family)) / 2 ** 20;
  }
  const text = Object.entries(mb).map(([k, v]) => `${k} ${fmt(v)} MB`).join(', ') + `; RSS by mapping: ${mapText(pid)}`;
  const perSession = (start: { mb: Record<string, number> }, n: number) => Object.entries(mb)
    .map(([k, v]) => `${k} ${fmt(((v - (start.mb[k] ?? 0)) * 1024) / n, 1)} KB`).join(', ');
  return { text, mb, perSession };
}

/** The mean duration of the runner's incoming runs so far (its own histogram's sum over count), in ms. */
async function meanRunMs(url: string): Promise<number> {
  const sum = await metricSum(url, 'mailsync_sync_duration_seconds_sum', 'direction="incoming"');
  const count = await metricSum(url, 'mailsync_sync_duration_seconds_count', 'direction="incoming"');
  return (1_000 * sum) / count;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const { dovecot, names } = await startFleetDovecot(N, 3);
  let prometheus: Prometheus | undefined;
  try {
    const spawned = Date.now();
    // The system's monotonic clock in µs, as V8 stamps a CPU profile's samples: profile-top.mjs's window.
    const monoUs = () => Number(process.hrtime.bigint() / 1_000n);
    const spawnedUs = monoUs();
    // Who is busy in each phase (cpu-account.ts): the runner (one thread: 100 % is one core), this
    // process, and this benchmark's Dovecot's processes by name (imap, imap-login, auth...).
    // The runner is not spawned yet at the first sample: it counts from zero in the phase it starts in.
    const runnerPids = new Set<number>();
    const byProcess: GroupOf = (pid, comm, ancestors) => {
      if (runnerPids.has(pid)) return 'runner';
      if (pid === process.pid) return 'bench';
      const dovecotPid = dovecot.pid as number;
      return pid === dovecotPid || ancestors.includes(dovecotPid) ? comm : undefined;
    };
    const cpuAtSpawn = cpuSample(byProcess);
    const runner = await startRunner(dovecot, names, { push: PUSH, pollIntervalSeconds: 1, concurrency: CONCURRENCY, label: 'fleet' });
    runnerPids.add(runner.child.pid as number);
    try {
      const rssStart = procStatus(runner.child.pid as number).rssMb;
      const memoryAtStart = await memoryOf(runner.url, runner.child.pid as number);
      progress(`runner memory at start: ${memoryAtStart.text}`);
      // BENCH_RUNNER_HEAP_SNAPSHOT_START=1: one now too (before most logins), to compare with the one
      // at the end; it stops the runner for a while, so that run's cold start is not a figure to report.
      const startSnapshot = process.env.BENCH_RUNNER_HEAP_SNAPSHOT_START === '1' ? await heapSnapshot(runner) : undefined;
      if (startSnapshot) progress(`heap snapshot at start (cold start figure not comparable): ${startSnapshot}`);
      const scraper = await Prometheus.start({ targets: [new URL(runner.url).host] });
      prometheus = scraper;
      const probe = storeProbe(runner);
      // Open runs in the store, sampled as the probe polls: how full the cycle slots were.
      const slots: number[] = [];
      const successes = () => {
        slots.push(probe.inFlight());
        return probe.successes();
      };
      const first = await waitFor(successes, { what: 'every mailbox\'s first cycle', until: (n) => n >= N, timeoutMs: 1_800_000, intervalMs: 250 });
      const coldStart = (Date.now() - spawned) / 1_000;
      const failures = await metricSum(runner.url, 'mailsync_sync_runs_total', 'result="failure"');
      progress(`cold start: ${N} first cycles in ${fmt(coldStart, 1)} s (${failures} failed runs); monotonic window ${spawnedUs}-${monoUs()}`);
      const cpuAtFirst = cpuSample(byProcess);
      progress(`cold start CPU: ${describeCpu(cpuBetween(cpuAtSpawn, cpuAtFirst))}; first cycle mean ${fmt(await meanRunMs(runner.url), 0)} ms, ` +
        `cycles in flight ${fmt(mean(slots), 1)} of ${CONCURRENCY} on average`);
      slots.length = 0;
      progress(`runner memory after the cold start: ${(await memoryOf(runner.url, runner.child.pid as number)).text}`);

      // A pass: N more successful runs, scraped every ~second meanwhile as Prometheus does.
      const scrapes: number[] = [];
      let series = 0;
      const passStart = process.hrtime.bigint();
      const passStartUs = monoUs();
      await waitFor(async () => {
        const s = await timedScrape(runner.url);
        scrapes.push(s.ms);
        series = s.series;
        return successes();
      }, { what: 'a full no-change pass over the fleet', until: (n) => n >= first + N, timeoutMs: 1_800_000, intervalMs: 1_000 });
      const cycle = Number(process.hrtime.bigint() - passStart) / 1e9;
      const status = procStatus(runner.child.pid as number);
      const kbPerSession = ((status.rssMb - rssStart) * 1024) / N;
      progress(`no-change pass: ${N} checks in ${fmt(cycle, 2)} s; runner RSS ${fmt(status.rssMb)} MB (${fmt(rssStart)} MB at start, ` +
        `peak ${fmt(status.peakMb)} MB), ${status.sockets} sockets; monotonic window ${passStartUs}-${monoUs()}`);
      progress(`pass CPU: ${describeCpu(cpuBetween(cpuAtFirst, cpuSample(byProcess)))}; cycles in flight ${fmt(mean(slots), 1)} of ${CONCURRENCY} on average`);
      probe.close();
      const memoryAfter = await memoryOf(runner.url, runner.child.pid as number);
      progress(`runner memory after the pass: ${memoryAfter.text}; per kept session: ${memoryAfter.perSession(memoryAtStart, N)}`);

      // A short run can end before Prometheus's first scrape of the runner: wait for one.
      const loop = await waitFor(() => scraper.query('max_over_time(nodejs_eventloop_lag_p99_seconds[30m])'),
        { what: 'Prometheus to have scraped the runner\'s event-loop lag', until: (r) => r.length > 0, timeoutMs: 60_000, intervalMs: 500 });
      const loopP99 = 1_000 * Number(loop[0]?.value[1] ?? Number.NaN);
      const promScrape = await prometheus.query('max_over_time(scrape_duration_seconds[30m])');
      const scrapeMs = median(scrapes);
      const baseline = await promClientBaselineMs(series, 15);
      progress(`scrape while cycling: median ${fmt(scrapeMs, 1)} ms over ${scrapes.length} (${series} series; Prometheus saw at most ` +
        `${fmt(1_000 * Number(promScrape[0]?.value[1] ?? Number.NaN), 1)} ms); prom-client baseline ${fmt(baseline, 1)} ms`);
      console.log(`RESULT mailboxes=${N} cold_start_s=${fmt(coldStart, 1)} cycle_s=${fmt(cycle, 2)} checks_per_s=${fmt(N / cycle)} ` +
        `rss_mb=${fmt(status.rssMb)} kb_per_session=${fmt(kbPerSession, 1)} scrape_ms=${fmt(scrapeMs, 1)} scrape_ratio=${fmt(scrapeMs / baseline, 2)} ` +
        `loop_p99_ms=${fmt(loopP99, 1)}`);
      // BENCH_RUNNER_HEAP_SNAPSHOT=<dir>: one snapshot with every session kept, after every figure is
      // taken (it stops the runner's loop for seconds); node test/bench/heap-top.mjs reads it.
      const snapshot = await heapSnapshot(runner);
      if (snapshot) progress(`heap snapshot with ${N} kept sessions: ${snapshot}`);
    } finally {
      await runner.remove();
    }
  } finally {
    await prometheus?.stop();
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
