/**
 * bench:send — BENCH_EMAILS (default 2,000) queued emails sent by mailsync's outgoing cycle to
 * smtp-server on loopback (STARTTLS + AUTH), against raw nodemailer sending the same stored bytes
 * over the same number of pooled connections in the same process. Before either is timed, a
 * warm-up sends BENCH_WARMUP emails (default 200) through raw nodemailer, so that the code both
 * sides share (nodemailer, TLS, the server) is compiled before the first timed send and neither
 * side pays its warm-up. The emails are sent in BENCH_ROUNDS rounds (default 4), each mailsync's
 * cycle then the baseline on the same share, so that a change of load on a shared machine falls on
 * both sides alike; the figures are the sums. Both sides report their CPU time per email (user + system of this process,
 * the server's included) beside the wall clock: on a shared machine it moves less than the wall
 * clock does. BENCH_CPU_PROFILE=<dir> writes a CPU profile of each timed phase.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../exporter/src/config/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { EmailOperations } from '../../exporter/src/mailboxes/emails.js';
import { runCycle } from '../../exporter/src/directions/run.js';
import { createOutgoing } from '../../exporter/src/outgoing/index.js';
import { openStore } from '../../exporter/src/store/index.js';
import { SmtpLab } from '../harness/smtp.js';
import { makeCert } from '../harness/tls.js';
import { fmt, pool, profiled, progress, sizeFromEnv } from './common.js';

const EMAILS = sizeFromEnv('BENCH_EMAILS', 2_000);
const WARMUP = sizeFromEnv('BENCH_WARMUP', 200);
/** Rounds of mailsync then the baseline, each on its share of the emails: a change of the machine's load hits both sides. */
const ROUNDS = sizeFromEnv('BENCH_ROUNDS', 4);
/** Both sides use the same pooled connections (a profile's default outgoing.maxConnections). */
const CONNECTIONS = 3;
const clock = { now: () => Date.now() };
const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-send-'));
let smtp: SmtpLab | undefined;
try {
  const cert = makeCert(dir, 'smtp');
  smtp = await SmtpLab.start({ cert, users: { sender: 'sender-password' } });
  writeFileSync(path.join(dir, 'mailsync.yaml'), stringify({
    store: { path: './bench.db' },
    organization: { id: 'bench', processOnlyApproved: false },
    
    profiles: [{
      id: 'p', incoming: { host: 'localhost', port: 1 },
      outgoing: { host: 'localhost', port: smtp.port, security: 'starttls', caFile: cert.cert, maxConnections: CONNECTIONS },
    }],
    mailboxes: [{ id: 'm', address: 'sender@bench.example', profile: 'p', outgoing: true, credentials: { username: 'sender', password: '${BENCH_PW}' } }],
  }));
  const config = loadConfigFile(path.join(dir, 'mailsync.yaml'), { env: { BENCH_PW: 'sender-password' } });
  const store = await openStore({ path: config.store.path });
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });

  progress(`queueing ${EMAILS} emails (not timed)`);
  const text = 'Bonjour,\r\n\r\nvoici le rapport de la semaine.\r\n'.repeat(40);
  for (let i = 0; i < EMAILS; i++) {
    await emails.queue('m', { name: 'bench', role: 'operator' }, {
      to: [`r${i % 50}@remote.example`], cc: i % 4 === 0 ? ['cc@remote.example'] : [], bcc: [], subject: `Rapport ${i}`, text, html: undefined, attachments: [],
    });
  }
  const queued = await store.outgoing.list('m', 'pending_send', EMAILS + 1);

  const raws = await Promise.all(queued.map(async (e) => ({ from: e.envelopeFrom, to: e.recipients, raw: await store.outgoing.raw(e.id) as Buffer })));
  const port = smtp.port;
  // A fresh pool per pass: each timed side opens its own connections, as mailsync's cycle does.
  const rawPass = async (messages: typeof raws) => {
    const raw = nodemailer.createTransport({
      pool: true, maxConnections: CONNECTIONS, host: 'localhost', port, requireTLS: true,
      tls: { ca: readFileSync(cert.cert), rejectUnauthorized: true, minVersion: 'TLSv1.2' }, auth: { user: 'sender', pass: 'sender-password' },
    });
    await pool(messages, CONNECTIONS, async (m) => {
      await raw.sendMail({ envelope: { from: m.from, to: m.to }, raw: m.raw });
    });
    raw.close();
  };
  progress(`warm-up: ${WARMUP} emails through raw nodemailer (not timed)`);
  await rawPass(Array.from({ length: WARMUP }, (_, i) => raws[i % raws.length]!));

  const mailbox = config.mailboxes[0]!;
  const profile = config.profiles[0]!;
  const deps = { store, clock, logger: createLogger('silent'), autodiscover: () => undefined };
  const outgoing = createOutgoing(deps);
  const mailsync = { seconds: 0, cpuUs: 0 };
  const baseline = { seconds: 0, cpuUs: 0 };
  const perRound = Math.ceil(EMAILS / ROUNDS);
  for (let round = 0; round * perRound < EMAILS; round++) {
    const chunk = raws.slice(round * perRound, (round + 1) * perRound);
    const roundConfig = { ...config, sync: { ...config.sync, outgoing: { ...config.sync.outgoing, batchSize: chunk.length } } };
    const sent = smtp.deliveries.length;
    add(mailsync, await measured(`send-${round + 1}`, async () => {
      const outcome = await runCycle(outgoing, mailbox, profile, roundConfig, deps, { retry: false });
      if (outcome.result === 'failure') throw new Error(`send failed: ${outcome.code} ${outcome.message}`);
    }));
    // Each round opens its connections afresh on both sides.
    outgoing.closeIdle();
    if (smtp.deliveries.length - sent !== chunk.length) throw new Error(`the server got ${smtp.deliveries.length - sent} emails from mailsync, not ${chunk.length}`);
    // Baseline: the same stored bytes and envelopes, straight through a pooled nodemailer transport.
    add(baseline, await measured(`raw-nodemailer-${round + 1}`, () => rawPass(chunk)));
  }
  await outgoing.close();
  await store.close();
  progress(`mailsync: ${EMAILS} emails in ${fmt(mailsync.seconds, 2)} s, ${fmt(mailsync.cpuUs / EMAILS)} us of CPU per email`);
  progress(`raw nodemailer: ${EMAILS} emails in ${fmt(baseline.seconds, 2)} s, ${fmt(baseline.cpuUs / EMAILS)} us of CPU per email`);

  const rawSeconds = baseline.seconds;
  const sendSeconds = mailsync.seconds;
  console.log(`RESULT send_msgs_per_s=${fmt(EMAILS / sendSeconds)} raw_nodemailer_msgs_per_s=${fmt(EMAILS / rawSeconds)} ratio=${fmt(rawSeconds / sendSeconds, 2)} cpu_us_per_email=${fmt(mailsync.cpuUs / EMAILS)} raw_cpu_us_per_email=${fmt(baseline.cpuUs / EMAILS)}`);
} finally {
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Wall clock and this process's CPU time (user + system) of `fn`, under the profiler when asked. */
async function measured(label: string, fn: () => Promise<void>): Promise<{ seconds: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await profiled(label, fn);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuUs: used.user + used.system };
}

function add(total: { seconds: number; cpuUs: number }, part: { seconds: number; cpuUs: number }): void {
  total.seconds += part.seconds;
  total.cpuUs += part.cpuUs;
}
