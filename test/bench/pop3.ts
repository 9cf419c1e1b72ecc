/**
 * bench:pop3: the bench:ingest corpus in one POP3 maildrop of a real Dovecot, read in one run by
 * mailsync's POP3 incoming (RETR + header parse + hash + store), by getmail6 into a Maildir and by
 * fetchmail into an MDA that writes one file per message. All three over plain POP3 on loopback,
 * leave-on-server. Prints figures, then the RESULT line. BENCH_MESSAGES sets the corpus size
 * (default 5000).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../exporter/src/clock.js';
import { runCycle } from '../../exporter/src/directions/run.js';
import { createIncoming } from '../../exporter/src/incoming/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { openStore } from '../../exporter/src/store/index.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot, type DovecotUser } from '../harness/dovecot.js';
import { fmt, peakRssMb, progress, seedCorpus, sizeFromEnv, timed } from './common.js';

const N = sizeFromEnv('BENCH_MESSAGES', 5_000);

/**
 * getmail refuses to deliver as root and fetchmail warns: both run as `nobody` (getmail needs a
 * passwd entry for its uid), owning their temp dir.
 */
const TOOL_UID = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());

function run(command: string, args: string[], dir: string): void {
  execFileSync('chown', ['-R', `${TOOL_UID}:${TOOL_UID}`, dir]);
  try {
    execFileSync(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'], uid: TOOL_UID, gid: TOOL_UID,
      env: { PATH: process.env.PATH, HOME: dir, FETCHMAILHOME: dir },
    });
  } catch (error) {
    throw new Error(`${command} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
}

function getmail(dovecot: Dovecot, user: DovecotUser): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-getmail-'));
  chmodSync(dir, 0o755);
  const maildir = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(maildir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'getmailrc'), [
    '[retriever]', 'type = SimplePOP3Retriever', 'server = 127.0.0.1', `port = ${dovecot.pop3Port}`,
    `username = ${user.name}`, `password = ${user.password}`, '',
    '[destination]', 'type = Maildir', `path = ${maildir}/`, '',
    // Leave on server and read everything, as mailsync does on a first sync.
    '[options]', 'read_all = true', 'delete = false', 'verbose = 0', 'received = false', 'delivered_to = false', '',
  ].join('\n'));
  // getmail 6.18 installs its SIGCHLD handler only after fork(): a delivery child that exits first
  // (two busy cores) leaves it waiting for a signal already gone ("waiting child pid ... timed
  // out"). On one CPU the parent runs on after fork() and installs it first; getmail waits for
  // each delivery child anyway, so this costs it no parallelism.
  run('taskset', ['-c', '0', 'getmail', '--rcfile', path.join(dir, 'getmailrc'), '--getmaildir', dir, '--quiet'], dir);
  return readdirSync(path.join(maildir, 'new')).length + readdirSync(path.join(maildir, 'cur')).length;
}

function fetchmail(dovecot: Dovecot, user: DovecotUser): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-fetchmail-'));
  const out = path.join(dir, 'out');
  mkdirSync(out);
  const mda = path.join(dir, 'mda.sh');
  // The MDA is run once per message with it on stdin: the way fetchmail delivers without an MTA.
  writeFileSync(mda, `#!/bin/sh\nexec cat > "${out}/$$.$(date +%s%N)"\n`);
  chmodSync(mda, 0o755);
  const rc = path.join(dir, 'fetchmailrc');
  writeFileSync(rc, [
    'set no syslog',
    `poll 127.0.0.1 service ${dovecot.pop3Port} protocol pop3 auth password`,
    `  user "${user.name}" password "${user.password}" is "bench" here`,
    // Plaintext on loopback like the others (fetchmail would otherwise take the offered STLS).
    `  sslproto '' keep fetchall no rewrite mda "${mda}"`,
    '',
  ].join('\n'));
  // fetchmail refuses an rc file others can read.
  chmodSync(rc, 0o600);
  run('fetchmail', ['-f', rc, '--nodetach', '--silent', '--pidfile', path.join(dir, 'fetchmail.pid')], dir);
  return readdirSync(out).length;
}

async function mailsync(dovecot: Dovecot, user: DovecotUser): Promise<number> {
  const lab = writeLabConfig(dovecot, {
    mailboxes: [{ id: 'bench', user: user.name, profile: 'pop3' }],
    profiles: [{ id: 'pop3', incoming: { protocol: 'pop3', host: '127.0.0.1', port: dovecot.pop3Port, security: 'none' }, auth: { mode: 'mailbox' } }],
    organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
    sync: { batchSize: 200 },
  });
  const store = await openStore({ path: path.join(lab.dir, 'pop3.db') });
  const deps = { store, clock: systemClock, logger: createLogger('silent'), autodiscover: () => undefined };
  const incoming = createIncoming(deps, () => 1);
  try {
    const outcome = await runCycle(incoming, lab.config.mailboxes[0]!, lab.config.profiles.find((p) => p.id === 'pop3')!, lab.config, deps, { retry: false });
    if (outcome.result !== 'success') throw new Error(`mailsync POP3 failed: ${JSON.stringify(outcome)}`);
    return await store.mail.countEmails('bench');
  } finally {
    await incoming.close();
    await store.close();
  }
}

async function main(): Promise<void> {
  const dovecot = await Dovecot.start({ pop3: true });
  try {
    const user = dovecot.addUser('bench');
    progress(`seeding ${N} messages into Dovecot`);
    const bytes = seedCorpus(dovecot, user.name, N);
    progress(`corpus: ${N} messages, ${fmt(bytes / 1e6, 1)} MB; warming Dovecot's index and the page cache`);
    dovecot.doveadm(['fetch', '-u', user.name, 'size.physical', 'mailbox', 'INBOX']);

    const ours = await timed(() => mailsync(dovecot, user));
    progress(`mailsync POP3: ${ours.value} stored in ${fmt(ours.seconds, 2)} s`);
    const gm = await timed(async () => getmail(dovecot, user));
    progress(`getmail6: ${gm.value} messages in ${fmt(gm.seconds, 2)} s`);
    const fm = await timed(async () => fetchmail(dovecot, user));
    progress(`fetchmail: ${fm.value} messages in ${fmt(fm.seconds, 2)} s`);
    if (ours.value !== N || gm.value !== N || fm.value !== N) {
      throw new Error(`message counts differ: corpus ${N}, mailsync ${ours.value}, getmail ${gm.value}, fetchmail ${fm.value}`);
    }
    const rate = N / ours.seconds;
    const gmRate = N / gm.seconds;
    const fmRate = N / fm.seconds;
    console.log(
      `RESULT pop3_msgs_per_s=${fmt(rate)} getmail_msgs_per_s=${fmt(gmRate)} fetchmail_msgs_per_s=${fmt(fmRate)} ` +
      `ratio_getmail=${fmt(rate / gmRate, 2)} ratio_fetchmail=${fmt(rate / fmRate, 2)} peak_rss_mb=${peakRssMb()}`,
    );
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
