/**
 * bench:reconnect-memory: native memory left behind by TLS reconnects. Each of N connections to a
 * local TLS server (the harness's certificate, trusted through a CA file as a profile's `caFile`)
 * is made, verified and closed, as a kept IMAP session does after every drop. Two ways, each in
 * its own process so neither inherits the other's heap: the baseline gives `tls.connect` the CA
 * (it then builds an OpenSSL context per connection, as mailsync did), the product passes the one
 * context `clientContext` keeps per CA file. After every connection closed and every context was
 * collected, it reports the growth of anonymous memory, with V8's heap growth beside it: the heap
 * grows the same both ways (the same JS objects come and go), so the difference is what the
 * per-connection contexts leave outside V8 (freed, but kept by the allocator: contexts die only
 * with a GC, so many are alive at once between two). Last line:
 *   RESULT connections=N baseline_anon_mb=X shared_anon_mb=Y baseline_heap_mb=H shared_heap_mb=H ratio=Y/X
 * Size: BENCH_CONNECTIONS (default 4000).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import { clientContext } from '../../exporter/src/protocols/tls-context.js';
import { makeCert } from '../harness/tls.js';
import { fmt, progress, sizeFromEnv } from './common.js';

const CONNECTIONS = sizeFromEnv('BENCH_CONNECTIONS', 4000);
const MB = 1024 * 1024;

type Mode = 'baseline' | 'shared';

/** Anonymous resident memory (the heaps: V8's and malloc's) as the kernel counts it. */
function anonMb(): number {
  return Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
}

async function settle(): Promise<{ anon: number; heapTotal: number }> {
  // Two rounds: a socket's native wrapper is freed in one GC, what it still held in the next.
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await tick();
  }
  return { anon: anonMb(), heapTotal: process.memoryUsage().heapTotal / MB };
}

/** The child: N connections one after another, the native growth per connection on stdout. */
async function child(mode: Mode, dir: string): Promise<void> {
  const caFile = path.join(dir, 'ca.pem');
  const server = tls.createServer({ cert: readFileSync(path.join(dir, 'server.crt')), key: readFileSync(path.join(dir, 'server.key')) }, (s) => {
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const connect = (): Promise<void> => new Promise((resolve, reject) => {
    const trust = mode === 'shared' ? { secureContext: clientContext(caFile) } : { ca: readFileSync(caFile), minVersion: 'TLSv1.2' as const };
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: true, ...trust }, () => socket.end());
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
  // Warm-up: code paths, V8's first sizing, the shared context itself.
  for (let i = 0; i < 200; i++) await connect();
  const before = await settle();
  for (let i = 0; i < CONNECTIONS; i++) await connect();
  const after = await settle();
  await new Promise((resolve) => server.close(resolve));
  const anonKb = (after.anon - before.anon) * 1024 / CONNECTIONS;
  console.log(JSON.stringify({ mode, anonMb: after.anon - before.anon, heapTotalMb: after.heapTotal - before.heapTotal, anonKb }));
}

function run(mode: Mode, dir: string): { anonMb: number; heapTotalMb: number; anonKb: number } {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', mode, dir], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (out.status !== 0) throw new Error(`the ${mode} run failed (exit ${out.status}): ${out.stderr.slice(0, 2000)}`);
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as { anonMb: number; heapTotalMb: number; anonKb: number };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as Mode, process.argv[4] as string);
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-tls-'));
  try {
    const cert = makeCert(dir, 'server');
    copyFileSync(cert.cert, path.join(dir, 'ca.pem'));
    progress(`${CONNECTIONS} TLS connections each way, one after another`);
    const baseline = run('baseline', dir);
    progress(`baseline (tls.connect given the CA): anon +${fmt(baseline.anonMb, 1)} MB, V8 heap +${fmt(baseline.heapTotalMb, 1)} MB, ${fmt(baseline.anonKb, 2)} KB a connection`);
    const shared = run('shared', dir);
    progress(`shared (one context per CA file): anon +${fmt(shared.anonMb, 1)} MB, V8 heap +${fmt(shared.heapTotalMb, 1)} MB, ${fmt(shared.anonKb, 2)} KB a connection`);
    const ratio = baseline.anonMb > 0 ? shared.anonMb / baseline.anonMb : Number.NaN;
    console.log(`RESULT connections=${CONNECTIONS} baseline_anon_mb=${fmt(baseline.anonMb, 1)} shared_anon_mb=${fmt(shared.anonMb, 1)} ` +
      `baseline_heap_mb=${fmt(baseline.heapTotalMb, 1)} shared_heap_mb=${fmt(shared.heapTotalMb, 1)} ratio=${fmt(ratio, 3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
