/**
 * bench:send — BENCH_EMAILS (default 2,000) queued emails sent by mailsync's outgoing cycle to
 * smtp-server on loopback (STARTTLS + AUTH), against raw nodemailer sending the same stored bytes
 * over the same number of pooled connections in the same process. BENCH_CPU_PROFILE=<dir> writes a
 * CPU profile of mailsync's send phase alone.
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
    sync: { outgoing: { batchSize: 1_000 } },
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

  const mailbox = config.mailboxes[0]!;
  const profile = config.profiles[0]!;
  const deps = { store, clock, logger: createLogger('silent'), autodiscover: () => undefined };
  const outgoing = createOutgoing(deps);
  const startSend = process.hrtime.bigint();
  await profiled('send', async () => {
    while ((await store.outgoing.due('m', clock.now(), 1)).length > 0) {
      const outcome = await runCycle(outgoing, mailbox, profile, config, deps, { retry: false });
      if (outcome.result === 'failure') throw new Error(`send failed: ${outcome.code} ${outcome.message}`);
    }
  });
  const sendSeconds = Number(process.hrtime.bigint() - startSend) / 1e9;
  await outgoing.close();
  if (smtp.deliveries.length !== EMAILS) throw new Error(`the server got ${smtp.deliveries.length} emails, not ${EMAILS}`);
  progress(`mailsync: ${EMAILS} emails in ${fmt(sendSeconds, 2)} s`);

  // Baseline: the same stored bytes and envelopes, straight through a pooled nodemailer transport.
  const raws = await Promise.all(queued.map(async (e) => ({ from: e.envelopeFrom, to: e.recipients, raw: await store.outgoing.raw(e.id) as Buffer })));
  await store.close();
  const raw = nodemailer.createTransport({
    pool: true, maxConnections: CONNECTIONS, host: 'localhost', port: smtp.port, requireTLS: true,
    tls: { ca: readFileSync(cert.cert), rejectUnauthorized: true, minVersion: 'TLSv1.2' }, auth: { user: 'sender', pass: 'sender-password' },
  });
  const startRaw = process.hrtime.bigint();
  await pool(raws, CONNECTIONS, async (m) => {
    await raw.sendMail({ envelope: { from: m.from, to: m.to }, raw: m.raw });
  });
  const rawSeconds = Number(process.hrtime.bigint() - startRaw) / 1e9;
  raw.close();
  progress(`raw nodemailer: ${EMAILS} emails in ${fmt(rawSeconds, 2)} s`);

  console.log(`RESULT send_msgs_per_s=${fmt(EMAILS / sendSeconds)} raw_nodemailer_msgs_per_s=${fmt(EMAILS / rawSeconds)} ratio=${fmt(rawSeconds / sendSeconds, 2)}`);
} finally {
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
}
