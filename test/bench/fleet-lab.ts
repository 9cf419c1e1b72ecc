/**
 * What bench:fleet and bench:latency share: a Dovecot tuned for thousands of kept sessions as a
 * real site would tune it (docs/performance.md, "Server-side tuning"), N users with a few messages
 * each, a real `mailsync run` process over them, and reading its /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pg from 'pg';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { migrate } from '../../exporter/src/store/postgres/migrations.js';
import { MAILSYNC_BIN, assertBuilt } from '../harness/cli.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import type { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';
import { progress } from './common.js';

/**
 * Dovecot for `n` kept sessions. One imap process serves up to CLIENTS_PER_IMAP connections
 * (`service imap { client_limit }`): a kept session is idle almost all the time, so one process
 * per session (the default, client_limit = 1) would cost N processes' memory for no work (all
 * users share one mail uid here, as on a virtual-users site, so a process may serve several). Login
 * processes run in high-performance mode (`service_count = 0`, one per CPU kept ready), which is
 * what bounds the rate of first logins; anvil must track every connection.
 */
export const CLIENTS_PER_IMAP = 50;
export function tunedDovecotConfig(n: number): string {
  const imapProcesses = Math.ceil(n / CLIENTS_PER_IMAP) + 20;
  return [
    `default_process_limit = ${imapProcesses + 100}`,
    `default_client_limit = ${2 * n + 1_000}`,
    // The IMAP limit of connections per user and address is 10 by default; one each here.
    'service imap {',
    // service_count = 1 (the default) ends a process after its first client, whatever client_limit says.
    '  service_count = 0',
    `  client_limit = ${CLIENTS_PER_IMAP}`,
    `  process_limit = ${imapProcesses}`,
    '}',
    'service imap-login {',
    '  service_count = 0',
    '  process_min_avail = 2',
    `  client_limit = ${n + 500}`,
    '  vsz_limit = 1G',
    '}',
    'service anvil {',
    `  client_limit = ${2 * n + 1_000}`,
    '}',
  ].join('\n') + '\n';
}

export async function startFleetDovecot(n: number, messagesEach: number, options: { lmtp?: boolean } = {}): Promise<{ dovecot: Dovecot; names: string[] }> {
  const dovecot = await Dovecot.start({ extraConfig: tunedDovecotConfig(n), lmtp: options.lmtp });
  progress(`creating ${n} users with ${messagesEach} messages each`);
  const names = Array.from({ length: n }, (_, i) => `u${i}`);
  for (const name of names) {
    dovecot.addUser(name);
    dovecot.seedMaildir(name, Array.from({ length: messagesEach }, (_, k) => makeMessage(k)));
  }
  return { dovecot, names };
}

/**
 * Delivers messages to users' INBOXes as an MTA hands mail to Dovecot: over LMTP (the Dovecot
 * started with `lmtp: true`), on a few kept connections. `deliver` resolves with the moment
 * Dovecot answered 250 for the message, stored and visible to an IDLE on it, which is where a
 * lag is measured from. Unlike `doveadm save` (a process per message, whose start-up is most of
 * its cost), this adds next to nothing to the machine's load while the runner is measured.
 */
export function lmtpDelivery(dovecot: Dovecot, connections = 4): { deliver(user: string, raw: Buffer): Promise<number>; close(): void } {
  if (dovecot.lmtpPort === 0) throw new Error('lmtpDelivery needs a Dovecot started with lmtp: true');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: dovecot.lmtpPort, lmtp: true, secure: false, ignoreTLS: true,
    pool: true, maxConnections: connections, maxMessages: Infinity,
  });
  return {
    async deliver(user, raw) {
      const info = await transport.sendMail({ envelope: { from: 'bench@mailsync.test', to: [`${user}@bench.example`] }, raw });
      if (info.rejected.length > 0) throw new Error(`LMTP refused the message for ${user}: ${info.response}`);
      return Date.now();
    },
    close: () => transport.close(),
  };
}

export interface Runner {
  url: string;
  dir: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Stops the runner and removes its folder (config and store). */
  remove(): Promise<void>;
}

/**
 * A real `mailsync run` over the users, one profile, each mailbox with its own credentials. By
 * default on its own SQLite store, reaching Dovecot directly; `imapPort` (a proxy in front of it),
 * `store` (a store block: a PostgreSQL several runners share), `runnerId` and `leaseSeconds` are
 * for bench:scale's runners.
 */
export async function startRunner(dovecot: Dovecot, names: string[], options: {
  push: 'idle' | 'none'; pollIntervalSeconds: number; concurrency?: number; label: string;
  imapPort?: number; store?: Record<string, unknown>; runnerId?: string; leaseSeconds?: number;
}): Promise<Runner> {
  assertBuilt();
  const dir = mkdtempSync(path.join(tmpdir(), `mailsync-bench-${options.label}-`));
  mkdirSync(dir, { recursive: true });
  const listen = `127.0.0.1:${await freePort()}`;
  writeFileSync(path.join(dir, 'mailsync.yaml'), stringify({
    server: { listen },
    store: options.store ?? { path: './bench.db' },
    ...(options.runnerId ? { runner: { id: options.runnerId } } : {}),
    ...(options.leaseSeconds ? { leases: { seconds: options.leaseSeconds } } : {}),
    log: { level: 'warn' },
    organization: { id: 'bench', processOnlyApproved: false, allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
    // No jitter: every first cycle is due at start; the concurrency limit spreads them.
    sync: { pollIntervalSeconds: options.pollIntervalSeconds, jitterRatio: 0, maxConcurrentCycles: options.concurrency ?? 16 },
    profiles: [{
      id: 'fleet', incoming: { host: '127.0.0.1', port: options.imapPort ?? dovecot.imapPort, security: 'none', push: options.push },
      maxConnections: names.length, minPollIntervalSeconds: 1,
    }],
    mailboxes: names.map((name) => ({ id: name, address: `${name}@bench.example`, profile: 'fleet', credentials: { username: name, password: `pw-${name}` } })),
  }));
  // BENCH_RUNNER_CPU_PROFILE=<dir>: the runner writes a V8 CPU profile of its whole life there when it stops.
  const profileDir = process.env.BENCH_RUNNER_CPU_PROFILE;
  const nodeFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${options.label}-${Date.now()}.cpuprofile`] : [];
  // BENCH_RUNNER_HEAP_SNAPSHOT=<dir>: the runner writes a heap snapshot there on each SIGUSR2 (heapSnapshot below).
  const snapshotDir = process.env.BENCH_RUNNER_HEAP_SNAPSHOT;
  if (snapshotDir) nodeFlags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`);
  // BENCH_RUNNER_NODE_FLAGS: more flags for the runner's node (e.g. V8's heap sizing), to compare.
  nodeFlags.push(...(process.env.BENCH_RUNNER_NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''));
  const child = spawn(process.execPath, [...nodeFlags, MAILSYNC_BIN, 'run', '--config', path.join(dir, 'mailsync.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://${listen}`;
  await waitFor(() => fetch(`${url}/metrics`).then((r) => r.ok, () => false), { what: 'mailsync to serve /metrics', until: (ok) => ok, timeoutMs: 120_000, intervalMs: 200 });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    url, dir, child, stop,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated database: runners started at once do not race to create the schema. */
export async function freshDatabase(server: Postgres, name: string): Promise<string> {
  const url = await server.createDatabase(name);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return url;
}

/** Mailboxes with a successful incoming run started at or after `since` (ms), by the store. */
export async function succeededSince(server: Postgres, db: string, since: number): Promise<number> {
  const [row] = await server.sql<{ n: number }>(
    "SELECT count(DISTINCT mailbox_id)::int AS n FROM sync_run WHERE result = 'success' AND started_at >= $1", [since], db);
  return row?.n ?? 0;
}

/**
 * Asks the runner for a heap snapshot (BENCH_RUNNER_HEAP_SNAPSHOT set) and waits until it is
 * written: returns its path, or undefined when snapshots are off. The runner's loop stops while it
 * writes, so a bench takes one only outside the phases it times.
 */
export async function heapSnapshot(runner: Runner): Promise<string | undefined> {
  const dir = process.env.BENCH_RUNNER_HEAP_SNAPSHOT;
  if (!dir) return undefined;
  const pid = runner.child.pid as number;
  const before = new Set(readdirSync(dir));
  runner.child.kill('SIGUSR2');
  const file = await waitFor(() => readdirSync(dir).find((f) => !before.has(f) && f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot')),
    { what: 'the runner\'s heap snapshot', until: (f) => f !== undefined, timeoutMs: 600_000, intervalMs: 500 });
  // Written in place: done when the runner answers again.
  await waitFor(() => fetch(`${runner.url}/metrics`).then((r) => r.ok, () => false), { what: 'the runner after its heap snapshot', until: (ok) => ok, timeoutMs: 600_000, intervalMs: 500 });
  return path.join(dir, file as string);
}

/**
 * The runner's progress read from its SQLite store by this process (read-only; WAL lets it read
 * beside the runner's writes). A probe through /metrics costs the runner a whole scrape each time
 * (~0.4 s of its one thread at 10,000 mailboxes before helper D's work): polled 4 times a second
 * it was itself a large part of what slowed the cold start and the pass it measured.
 */
export function storeProbe(runner: Runner): { successes(): number; inFlight(): number; close(): void } {
  const db = new Database(path.join(runner.dir, 'bench.db'), { readonly: true, fileMustExist: true });
  const successes = db.prepare("SELECT COALESCE(SUM(runs_success_total), 0) AS n FROM mailbox_direction_state WHERE direction = 'incoming'").pluck();
  const open = db.prepare("SELECT COUNT(*) FROM sync_run WHERE direction = 'incoming' AND finished_at IS NULL").pluck();
  return {
    successes: () => successes.get() as number,
    inFlight: () => open.get() as number,
    close: () => db.close(),
  };
}

/** The sum of a family's samples whose labels contain `match` (e.g. `result="success"`). */
export async function metricSum(url: string, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Current and peak resident memory of a process, from /proc, in MB; and its open TCP sockets. */
export function procStatus(pid: number): { rssMb: number; peakMb: number; sockets: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed meanwhile
    }
  }
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024, sockets };
}

/**
 * A process's resident memory by kind of mapping, in MB, from /proc/<pid>/smaps: `brk` is the
 * C allocator's main heap (malloc's arena of the main thread), `anon` other anonymous mappings
 * (V8's heap pages, other threads' malloc arenas, large malloc blocks), `file` mapped files
 * (code, libraries), and `threads` the process's thread count.
 */
export function memoryMap(pid: number): { brk: number; anon: number; file: number; threads: number } {
  let brk = 0;
  let anon = 0;
  let file = 0;
  let kind: 'brk' | 'anon' | 'file' = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      kind = name === '[heap]' ? 'brk' : name === '' || name.startsWith('[') ? 'anon' : 'file';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const mb = Number(rss[1]) / 1024;
    if (kind === 'brk') brk += mb;
    else if (kind === 'anon') anon += mb;
    else file += mb;
  }
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { brk, anon, file, threads };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
