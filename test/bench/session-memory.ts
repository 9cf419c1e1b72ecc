/**
 * bench:session-memory: what one kept IMAP session costs in the runner's memory, by part. N Dovecot
 * users (tuned as bench:fleet's Dovecot); each way in its own process, N sessions opened 16 at a
 * time and left waiting in IDLE on INBOX, as a kept, pushed session waits between cycles:
 * - raw: a plain socket that logs in, EXAMINEs INBOX and issues IDLE by hand (the floor: what a
 *   logged-in TCP connection costs Node, whatever the IMAP library);
 * - imapflow: an ImapFlow client doing the same with its defaults;
 * - session: mailsync's ImapSession (clientOptions, park, the IdleWatch), as the runner keeps it.
 * After two forced GCs it reports per session: RSS, anonymous memory outside V8's heap, V8's heap in
 * use, and memory V8 knows is held outside it (external, ArrayBuffers). Last line:
 *   RESULT sessions=N raw_kb=X imapflow_kb=Y session_kb=Z session_heap_kb=H session_native_kb=M ratio=Z/X
 * Size: BENCH_SESSIONS (default 1000). BENCH_TLS=1 connects with implicit TLS (993-style).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import { createLogger } from '../../exporter/src/log.js';
import { Secret } from '../../exporter/src/config/index.js';
import { ImapSession } from '../../exporter/src/protocols/imap.js';
import type { ImapEndpoint } from '../../exporter/src/protocols/imap-options.js';
import { IdleWatch } from '../../exporter/src/incoming/push.js';
import { clientContext } from '../../exporter/src/protocols/tls-context.js';
import { fmt, pool, progress, sizeFromEnv } from './common.js';
import { startFleetDovecot } from './fleet-lab.js';

const SESSIONS = sizeFromEnv('BENCH_SESSIONS', 1000);
const TLS = process.env.BENCH_TLS === '1';
type Way = 'raw' | 'imapflow' | 'session';
const WAYS: Way[] = ['raw', 'imapflow', 'session'];

interface Sample { rss: number; anon: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }

function sample(): Sample {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const m = process.memoryUsage();
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

async function settle(): Promise<Sample> {
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await tick();
  }
  return sample();
}

/** A logged-in socket in IDLE on INBOX, by hand: one listener, nothing parsed beyond the tags. */
function rawSession(port: number, user: string, caFile: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // TLS as the product makes it: one shared context per CA file (tls-context.ts).
    const socket = TLS ? tls.connect({ host: '127.0.0.1', port, secureContext: clientContext(caFile) }) : net.connect({ host: '127.0.0.1', port });
    const steps = [`a LOGIN ${user} pw-${user}\r\n`, 'b EXAMINE INBOX\r\n', 'c IDLE\r\n'];
    const expect = ['* OK', 'a OK', 'b OK', '+ '];
    let seen = '';
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      while (expect.length > 0 && seen.includes(expect[0] as string)) {
        seen = seen.slice(seen.indexOf(expect.shift() as string));
        const next = steps.shift();
        if (next) socket.write(next);
        else { seen = ''; resolve(socket); }
      }
    });
  });
}

async function child(way: Way, port: number, caFile: string): Promise<void> {
  const logger = createLogger('warn');
  const endpoint: ImapEndpoint = { host: '127.0.0.1', port, security: TLS ? 'tls' : 'none', caFile: TLS ? caFile : undefined, timeouts: { connectSeconds: 30, greetingSeconds: 30, socketSeconds: 300 } };
  const policy = { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true };
  const kept: unknown[] = [];
  const open = async (user: string): Promise<void> => {
    if (way === 'raw') kept.push(await rawSession(port, user, caFile));
    else if (way === 'imapflow') {
      const client = new ImapFlow({ host: '127.0.0.1', port, secure: TLS, tls: { secureContext: clientContext(caFile) }, auth: { user, pass: `pw-${user}` }, logger: false });
      client.on('error', () => undefined);
      await client.connect();
      await client.mailboxOpen('INBOX', { readOnly: true });
      void client.idle();
      kept.push(client);
    } else {
      const options = { ...endpoint };
      const session = await ImapSession.open(options, { user, password: new Secret(`pw-${user}`, 'password') }, policy, logger);
      await session.examine('INBOX');
      const { watch } = await IdleWatch.start(session, { folder: 'INBOX', restartMs: 1_500_000, onNewMail: () => undefined, onLost: () => undefined, logger });
      kept.push({ session, watch });
    }
  };
  const users = Array.from({ length: SESSIONS + 50 }, (_, i) => `u${i}`);
  // Warm-up: code paths and V8's first sizing, outside the count.
  await pool(users.slice(SESSIONS), 16, open);
  const before = await settle();
  await pool(users.slice(0, SESSIONS), 16, open);
  const after = await settle();
  const per = (k: keyof Sample) => (after[k] - before[k]) / 1024 / SESSIONS;
  console.log(JSON.stringify({ way, rssKb: per('rss'), anonKb: per('anon'), heapUsedKb: per('heapUsed'), heapTotalKb: per('heapTotal'),
    externalKb: per('external'), arrayBuffersKb: per('arrayBuffers'), nativeKb: per('anon') - per('heapTotal') }));
  process.exit(0);
}

function run(way: Way, port: number, caFile: string): Record<string, number> {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', way, String(port), caFile], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (out.status !== 0) throw new Error(`the ${way} run failed (exit ${out.status}): ${out.stderr.slice(0, 2000)}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '') as Record<string, number>;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as Way, Number(process.argv[4]), process.argv[5] as string);
  const { dovecot } = await startFleetDovecot(SESSIONS + 50, 1);
  try {
    const port = TLS ? dovecot.imapsPort : dovecot.imapPort;
    const results = new Map<Way, Record<string, number>>();
    for (const way of WAYS) {
      const r = run(way, port, dovecot.cert.cert);
      results.set(way, r);
      progress(`${way}: ${SESSIONS} sessions in IDLE, per session: RSS ${fmt(r.rssKb ?? 0, 1)} KB (anonymous ${fmt(r.anonKb ?? 0, 1)} KB: ` +
        `V8 heap ${fmt(r.heapTotalKb ?? 0, 1)} KB of which in use ${fmt(r.heapUsedKb ?? 0, 1)} KB, outside V8 ${fmt(r.nativeKb ?? 0, 1)} KB; ` +
        `external ${fmt(r.externalKb ?? 0, 1)} KB, ArrayBuffers ${fmt(r.arrayBuffersKb ?? 0, 1)} KB)`);
    }
    const raw = results.get('raw') as Record<string, number>;
    const session = results.get('session') as Record<string, number>;
    console.log(`RESULT sessions=${SESSIONS} tls=${TLS ? 1 : 0} raw_kb=${fmt(raw.rssKb ?? 0, 1)} imapflow_kb=${fmt(results.get('imapflow')?.rssKb ?? 0, 1)} ` +
      `session_kb=${fmt(session.rssKb ?? 0, 1)} session_heap_kb=${fmt(session.heapUsedKb ?? 0, 1)} session_native_kb=${fmt(session.nativeKb ?? 0, 1)} ` +
      `ratio=${fmt((session.rssKb ?? 0) / (raw.rssKb ?? 1), 2)}`);
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
