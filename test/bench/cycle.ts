/**
 * bench:cycle: N Dovecot users whose mail is already synced; one full no-change cycle through the
 * scheduler (the service's path: STATUS on kept sessions), and in the same run a baseline of plain
 * imapflow connect + login + EXAMINE + logout over the same users at the same concurrency.
 * BENCH_MAILBOXES sets N (default 2000); BENCH_CONCURRENCY the concurrency (default 16, the
 * default sync.maxConcurrentCycles).
 * Then the scheduler alone (no servers) at 10,000 and 100,000 mailboxes: how long one
 * pass over the fleet takes when each run ends at once, i.e. the scheduler's own cost.
 * BENCH_CPU_PROFILE=<dir> writes a CPU profile of the timed no-change cycle alone (open it in
 * Chrome's DevTools, or summarise it with `node test/bench/profile-top.mjs <file>`).
 */
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { systemClock } from '../../exporter/src/clock.js';
import type { Config } from '../../exporter/src/config/index.js';
import { createLogger } from '../../exporter/src/log.js';
import type { DirectionDeps } from '../../exporter/src/directions/contract.js';
import { runCycle, type CycleOutcome } from '../../exporter/src/directions/run.js';
import { createIncoming, type IncomingRunner } from '../../exporter/src/incoming/index.js';
import { Scheduler, systemTimers, type Timers } from '../../exporter/src/scheduler/scheduler.js';
import { openStore } from '../../exporter/src/store/index.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { fmt, peakRssMb, pool, profiled, progress, sizeFromEnv, timed } from './common.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 2_000);
const CONCURRENCY = sizeFromEnv('BENCH_CONCURRENCY', 16);

/** One pass over every mailbox through the real scheduler; resolves when each has run once. */
async function fleetCycle(config: Config, incoming: IncomingRunner, deps: DirectionDeps): Promise<CycleOutcome[]> {
  const profiles = new Map(config.profiles.map((p) => [p.id, p]));
  const mailboxes = new Map(config.mailboxes.map((m) => [m.id, m]));
  const outcomes: CycleOutcome[] = [];
  let scheduler: Scheduler | undefined;
  await new Promise<void>((resolve) => {
    scheduler = new Scheduler({
      clock: systemClock, timers: systemTimers, random: Math.random, jitterRatio: 0,
      maxConcurrent: CONCURRENCY, groupLimit: (p) => profiles.get(p)!.maxConnections,
      run: async (id, signal) => {
        const m = mailboxes.get(id)!;
        outcomes.push(await runCycle(incoming, m, profiles.get(m.profile)!, config, deps, { retry: false, signal }));
        if (outcomes.length === mailboxes.size) resolve();
      },
    });
    // Interval far beyond the run: each mailbox runs exactly once.
    scheduler.setJobs(config.mailboxes.map((m) => ({ id: m.id, group: m.profile, intervalMs: 3_600_000 })));
    scheduler.start();
  });
  await scheduler!.stop();
  return outcomes;
}

/**
 * One pass of `n` mailboxes through the scheduler alone: each run ends after a microtask, the clock
 * stands still and timers never fire, so all that is timed is the scheduler choosing what runs.
 * Mailboxes are spread over 10 profiles; p0 allows one connection, so its jobs wait parked while
 * the others run. Also times reading the queue depth (done on every scrape) with all n waiting.
 */
async function schedulerAlone(n: number): Promise<{ ms: number; usPerCompletion: number; depthReadUs: number }> {
  const never: Timers = { setTimeout: () => undefined, clearTimeout: () => undefined };
  const jobs = Array.from({ length: n }, (_, i) => ({ id: `m${i}`, group: `p${i % 10}`, intervalMs: 3_600_000 }));
  let ran = 0;
  let scheduler: Scheduler | undefined;
  const pass = await timed(() => new Promise<void>((resolve) => {
    scheduler = new Scheduler({
      clock: { now: () => 0 }, timers: never, random: () => 0.5, jitterRatio: 0,
      maxConcurrent: CONCURRENCY, groupLimit: (p) => (p === 'p0' ? 1 : 4),
      run: async () => {
        ran += 1;
        if (ran === n) resolve();
      },
    });
    scheduler.setJobs(jobs);
    scheduler.start();
  }));
  await scheduler!.stop();
  const waiting = new Scheduler({
    clock: { now: () => 0 }, timers: never, random: () => 0.5, jitterRatio: 0, maxConcurrent: CONCURRENCY, groupLimit: () => 4, run: async () => undefined,
  });
  waiting.setJobs(jobs);
  const reads = 10_000;
  let depth = 0;
  const read = await timed(async () => {
    for (let i = 0; i < reads; i++) depth = waiting.queueDepth;
  });
  if (depth !== n) throw new Error(`queue depth ${depth}, expected ${n}`);
  return { ms: pass.seconds * 1e3, usPerCompletion: (pass.seconds * 1e6) / n, depthReadUs: (read.seconds * 1e6) / reads };
}

async function main(): Promise<void> {
  const dovecot = await Dovecot.start({
    // One imap process per kept session: raise Dovecot's process and client limits above N.
    extraConfig: `default_process_limit = ${N + 500}\ndefault_client_limit = ${4 * N + 1000}\n` +
      `service anvil {\n  client_limit = ${4 * N + 1000}\n}\n` +
      // Dovecot's built-in imap service sets process_limit = 1024 itself, over the default above.
      `service imap {\n  process_limit = ${N + 500}\n}\n`,
  });
  try {
    progress(`creating ${N} users with 3 messages each`);
    const names = Array.from({ length: N }, (_, i) => `u${i}`);
    for (const name of names) {
      dovecot.addUser(name);
      dovecot.seedMaildir(name, [makeMessage(1), makeMessage(2), makeMessage(3)]);
    }
    const lab = writeLabConfig(dovecot, {
      mailboxes: names.map((name) => ({ id: name, user: name, profile: 'plain' })),
      profiles: [{
        id: 'plain', incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' }, auth: { mode: 'mailbox' },
        // Enough connections to keep one session per mailbox (see docs/performance.md).
        maxConnections: N, minPollIntervalSeconds: 1,
      }],
      organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
      sync: { maxConcurrentCycles: CONCURRENCY },
    });
    const store = await openStore({ path: path.join(lab.dir, 'cycle.db') });
    const deps = { store, clock: systemClock, logger: createLogger('silent'), autodiscover: () => undefined };
    const incoming = createIncoming(deps, (p) => lab.config.profiles.find((x) => x.id === p)!.maxConnections);

    progress('initial sync of every mailbox (not timed)');
    const initial = await timed(() => fleetCycle(lab.config, incoming, deps));
    const failed = initial.value.filter((o) => o.result !== 'success');
    if (failed.length > 0) throw new Error(`${failed.length} initial cycles failed, e.g. ${JSON.stringify(failed[0])}`);
    progress(`initial sync: ${fmt(initial.seconds, 1)} s; ${incoming.sessions.idleCount} sessions kept`);

    const cycle = await profiled('no-change-cycle', () => timed(() => fleetCycle(lab.config, incoming, deps)));
    const changed = cycle.value.filter((o) => o.result !== 'success' || o.itemsProcessed !== 0);
    if (changed.length > 0) throw new Error(`${changed.length} no-change cycles did work or failed, e.g. ${JSON.stringify(changed[0])}`);
    progress(`no-change cycle: ${N} mailboxes in ${fmt(cycle.seconds, 2)} s`);
    await incoming.close();
    await store.close();

    const baseline = await timed(() => pool(names, CONCURRENCY, async (name) => {
      const client = new ImapFlow({
        host: '127.0.0.1', port: dovecot.imapPort, secure: false, doSTARTTLS: false,
        auth: { user: name, pass: `pw-${name}` }, logger: false, disableAutoIdle: true,
      });
      await client.connect();
      await client.mailboxOpen('INBOX', { readOnly: true });
      await client.logout();
    }));
    progress(`baseline fresh logins: ${N} in ${fmt(baseline.seconds, 2)} s`);

    // Taken before the scheduler-alone part, whose 100,000 entries would otherwise be counted.
    const rss = peakRssMb();
    await schedulerAlone(1_000); // warm-up
    const sched10k = await schedulerAlone(10_000);
    const sched100k = await schedulerAlone(100_000);
    for (const [label, r] of [['10,000', sched10k], ['100,000', sched100k]] as const) {
      progress(`scheduler alone, ${label} mailboxes: one pass ${fmt(r.ms, 1)} ms (${fmt(r.usPerCompletion, 2)} µs per completion), ` +
        `queue depth read ${fmt(r.depthReadUs, 2)} µs`);
    }

    const checks = N / cycle.seconds;
    const raw = N / baseline.seconds;
    console.log(
      `RESULT mailboxes=${N} cycle_s=${fmt(cycle.seconds, 2)} checks_per_s=${fmt(checks)} raw_checks_per_s=${fmt(raw)} ` +
      `ratio=${fmt(checks / raw, 2)} peak_rss_mb=${rss} ` +
      `sched_10k_ms=${fmt(sched10k.ms, 1)} sched_100k_ms=${fmt(sched100k.ms, 1)} sched_100k_us_per_completion=${fmt(sched100k.usPerCompletion, 2)} ` +
      `sched_100k_depth_read_us=${fmt(sched100k.depthReadUs, 2)}`,
    );
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
