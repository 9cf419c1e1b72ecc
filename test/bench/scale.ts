/**
 * bench:scale: several runners on one PostgreSQL store (docs/scaling.md). BENCH_MAILBOXES Dovecot
 * users (default 1,000; the issue's figure is 3,000) with 3 messages each, behind a TCP proxy
 * adding BENCH_RTT_MS of round trip (default 20: a server across a region, where a runner's time is
 * mostly waiting, which is what more runners divide). Measured in the same run, each on a fresh
 * database:
 * - one runner, then three runners, through the proxy: the initial sync (from spawning to every
 *   mailbox's first success in the store) and then one full no-change pass (every mailbox's next
 *   success); `speedup` = one runner's initial sync / three runners';
 * - one runner on PostgreSQL against one on SQLite, without the proxy (the store's cost where the
 *   network costs nothing): `pg_vs_sqlite` = the SQLite initial sync's time / PostgreSQL's (as
 *   bench:ingest's ratio_pg_sqlite: above 1, PostgreSQL is the faster);
 * - `takeover_s`: SIGKILL one of the three, time until every mailbox direction it held has a live
 *   lease on another runner (BENCH_LEASE_SECONDS, default 10; the bound is the period plus a third).
 * Each initial sync also prints where the machine's CPU went (cpu-account.ts: the runners, this
 * process with its proxy, PostgreSQL, Dovecot, anything else), and the RESULT line ends with the
 * machine's busy share during the one-runner and three-runner syncs (`busy_one`, `busy_three`):
 * three runners that do not divide the time while `busy_three` is near 1 are bound by the CPU.
 * Each PostgreSQL initial sync prints its timeline too (scale-timeline.ts: when each runner
 * heartbeated, got leases and synced, per two seconds). BENCH_SCALE_ONLY=three runs the
 * three-runner phase alone, with its timeline and no RESULT line (for work on that path).
 * BENCH_PG_STATEMENTS=1 also prints each PostgreSQL initial sync's statements by time
 * (scale-statements.ts: pg_stat_statements; it costs the database a little, so not for the RESULT).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dovecot } from '../harness/dovecot.js';
import { FaultProxy } from '../harness/fault-proxy.js';
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';
import { fmt, progress, sizeFromEnv } from './common.js';
import { cpuBetween, cpuSample, describeCpu, type GroupOf } from './cpu-account.js';
import { freshDatabase, metricSum, startFleetDovecot, startRunner, succeededSince, type Runner } from './fleet-lab.js';
import { recordStatements, reportStatements, STATEMENTS } from './scale-statements.js';
import { sampleTimeline } from './scale-timeline.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 1_000);
const RTT_MS = sizeFromEnv('BENCH_RTT_MS', 20);
const LEASE_SECONDS = sizeFromEnv('BENCH_LEASE_SECONDS', 10);
const CONCURRENCY = sizeFromEnv('BENCH_CONCURRENCY', 16);
const TIMEOUT_MS = 1_800_000;

interface Lab { dovecot: Dovecot; names: string[]; proxy: FaultProxy; server: Postgres; runnerPids: Set<number> }

/**
 * Whose CPU a phase used: anything else (other work on a shared machine) is "other", including
 * other Dovecots and PostgreSQLs (told apart by ancestry: this benchmark's Dovecot is its child,
 * its PostgreSQL's backends are children of the postmaster named in the data folder).
 */
function groupOf(lab: Lab): GroupOf {
  const postmaster = Number(readFileSync(path.join(lab.server.data, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  return (pid, comm, ancestors) => {
    if (lab.runnerPids.has(pid)) return 'runners';
    if (pid === process.pid) return 'bench+proxy';
    if (pid === postmaster || ancestors.includes(postmaster)) return 'postgres';
    if (ancestors.includes(process.pid) && !ancestors.some((a) => lab.runnerPids.has(a))) return 'dovecot';
    return 'other';
  };
}

/** `count` runners on database `db`, through the proxy; the initial sync and a no-change pass, timed. */
async function pgRun(lab: Lab, db: string, count: number, viaProxy: boolean): Promise<{ runners: Runner[]; initial: number; pass: number; busy: number }> {
  const url = await freshDatabase(lab.server, db);
  await recordStatements(lab.server, db);
  const cpuStart = cpuSample(groupOf(lab));
  const spawned = Date.now();
  const timeline = sampleTimeline(lab.server, db, spawned);
  const runners = await Promise.all(Array.from({ length: count }, (_, i) => startRunner(lab.dovecot, lab.names, {
    push: 'idle', pollIntervalSeconds: 1, concurrency: CONCURRENCY, label: `scale-${db}-${i}`,
    imapPort: viaProxy ? lab.proxy.port : undefined, store: { driver: 'postgresql', postgresql: { url } },
    runnerId: `${db}-r${i + 1}`, leaseSeconds: LEASE_SECONDS,
  })));
  for (const r of runners) lab.runnerPids.add(r.child.pid as number);
  await waitFor(() => succeededSince(lab.server, db, 0), { what: `${db}: every mailbox's first success`, until: (n) => n >= N, timeoutMs: TIMEOUT_MS, intervalMs: 250 });
  const initial = (Date.now() - spawned) / 1_000;
  // Sampled before anything stops: a process's time leaves /proc with it.
  const cpu = cpuBetween(cpuStart, cpuSample(groupOf(lab)));
  await timeline.report(N);
  await reportStatements(lab.server, db, N);
  // How evenly the runners shared the initial sync (a runner up first claims everything, then sheds).
  const split = await lab.server.sql<{ runner: string; n: number }>(
    "SELECT runner, count(DISTINCT mailbox_id)::int AS n FROM sync_run WHERE result = 'success' GROUP BY runner ORDER BY runner", [], db);
  progress(`${db}: mailboxes first synced per runner: ${split.map((r) => `${r.runner}=${r.n}`).join(' ')}`);
  const passStart = Date.now();
  await waitFor(() => succeededSince(lab.server, db, passStart), { what: `${db}: a full no-change pass`, until: (n) => n >= N, timeoutMs: TIMEOUT_MS, intervalMs: 250 });
  const pass = (Date.now() - passStart) / 1_000;
  progress(`${db}: ${count} runner(s) on PostgreSQL${viaProxy ? ` through ${RTT_MS} ms RTT` : ''}: initial sync ${fmt(initial, 1)} s, no-change pass ${fmt(pass, 1)} s`);
  progress(`${db}: CPU during the initial sync: ${describeCpu(cpu)}`);
  return { runners, initial, pass, busy: cpu.machineBusyShare };
}

/** Live leases of `runner` now, by the database's clock. */
async function liveLeases(server: Postgres, db: string, runner: string): Promise<{ mailbox_id: string; direction: string }[]> {
  return server.sql('SELECT mailbox_id, direction FROM leases WHERE runner = $1 AND expires_at > clock_timestamp()', [runner], db);
}

/** SIGKILLs the third runner; seconds until every lease it held is live on another runner. */
async function takeover(lab: Lab, db: string, runners: Runner[]): Promise<number> {
  const victim = `${db}-r3`;
  const held = await liveLeases(lab.server, db, victim);
  if (held.length === 0) throw new Error(`${victim} holds no lease: nothing to take over`);
  const killed = Date.now();
  runners[2]?.child.kill('SIGKILL');
  const takenOver = async () => {
    const [row] = await lab.server.sql<{ n: number }>(`SELECT count(*)::int AS n FROM leases l
      JOIN unnest($1::text[], $2::text[]) AS h(mailbox_id, direction) USING (mailbox_id, direction)
      WHERE l.runner IS NOT NULL AND l.runner <> $3 AND l.expires_at > clock_timestamp()`,
    [held.map((h) => h.mailbox_id), held.map((h) => h.direction), victim], db);
    return row?.n ?? 0;
  };
  await waitFor(takenOver, { what: `${victim}'s ${held.length} leases live on another runner`, until: (n) => n === held.length, timeoutMs: TIMEOUT_MS, intervalMs: 100 });
  const seconds = (Date.now() - killed) / 1_000;
  progress(`takeover: ${held.length} leases of the killed runner live elsewhere ${fmt(seconds, 1)} s after SIGKILL (lease ${LEASE_SECONDS} s)`);
  return seconds;
}

/** One runner on its own SQLite file, without the proxy: the initial sync, by its metrics. */
async function sqliteInitial(lab: Lab): Promise<number> {
  const spawned = Date.now();
  const runner = await startRunner(lab.dovecot, lab.names, { push: 'idle', pollIntervalSeconds: 1, concurrency: CONCURRENCY, label: 'scale-sqlite' });
  try {
    await waitFor(() => metricSum(runner.url, 'mailsync_sync_runs_total', 'result="success"'),
      { what: 'sqlite: every mailbox\'s first success', until: (n) => n >= N, timeoutMs: TIMEOUT_MS, intervalMs: 250 });
    const initial = (Date.now() - spawned) / 1_000;
    progress(`sqlite: 1 runner on SQLite, direct: initial sync ${fmt(initial, 1)} s`);
    return initial;
  } finally {
    await runner.remove();
  }
}

async function removeAll(runners: Runner[]): Promise<void> {
  await Promise.all(runners.map((r) => r.remove()));
}

async function main(): Promise<void> {
  const [server, fleet] = await Promise.all([Postgres.start({ statements: STATEMENTS }), startFleetDovecot(N, 3)]);
  const proxy = await FaultProxy.start(fleet.dovecot.imapPort);
  proxy.set({ kind: 'latency', delayMs: RTT_MS / 2 });
  const lab: Lab = { ...fleet, proxy, server, runnerPids: new Set() };
  try {
    if (process.env.BENCH_SCALE_ONLY === 'three') {
      // While working on the several-runner path: its timeline alone, no RESULT line.
      await removeAll((await pgRun(lab, 'three', 3, true)).runners);
      return;
    }
    const one = await pgRun(lab, 'one', 1, true);
    await removeAll(one.runners);
    const three = await pgRun(lab, 'three', 3, true);
    let takeoverS: number;
    try {
      takeoverS = await takeover(lab, 'three', three.runners);
    } finally {
      await removeAll(three.runners);
    }
    const direct = await pgRun(lab, 'direct', 1, false);
    await removeAll(direct.runners);
    const sqlite = await sqliteInitial(lab);
    console.log(`RESULT mailboxes=${N} one_runner_s=${fmt(one.initial, 1)} three_runners_s=${fmt(three.initial, 1)} ` +
      `speedup=${fmt(one.initial / three.initial, 2)} pg_vs_sqlite=${fmt(sqlite / direct.initial, 2)} takeover_s=${fmt(takeoverS, 1)} ` +
      `pass_one_s=${fmt(one.pass, 1)} pass_three_s=${fmt(three.pass, 1)} pass_speedup=${fmt(one.pass / three.pass, 2)} ` +
      `busy_one=${fmt(one.busy, 2)} busy_three=${fmt(three.busy, 2)}`);
  } finally {
    await proxy.stop();
    await fleet.dovecot.stop();
    await server.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
