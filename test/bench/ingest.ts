/**
 * bench:ingest: one folder of realistic mail in a real Dovecot, read three ways in one run:
 * raw imapflow FETCH of the sources (baseline), mailsync's ingest (fetch + header parse + hash +
 * store), and mbsync (Debian isync) into a Maildir. Prints figures, then the RESULT line.
 * BENCH_MESSAGES sets the corpus size (default 5000).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { systemClock } from '../../exporter/src/clock.js';
import { createLogger } from '../../exporter/src/log.js';
import { runCycle } from '../../exporter/src/directions/run.js';
import { createIncoming } from '../../exporter/src/incoming/index.js';
import { openStore } from '../../exporter/src/store/index.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { fmt, peakRssMb, progress, seedCorpus, sizeFromEnv, timed } from './common.js';

const N = sizeFromEnv('BENCH_MESSAGES', 5_000);

async function rawFetch(dovecot: Dovecot, user: { name: string; password: string }): Promise<{ count: number; bytes: number }> {
  const client = new ImapFlow({
    host: '127.0.0.1', port: dovecot.imapPort, secure: false, doSTARTTLS: false,
    auth: { user: user.name, pass: user.password }, logger: false, disableAutoIdle: true,
  });
  await client.connect();
  await client.mailboxOpen('INBOX', { readOnly: true });
  let count = 0;
  let bytes = 0;
  for await (const m of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
    count += 1;
    bytes += m.source?.length ?? 0;
  }
  await client.logout();
  return { count, bytes };
}

function mbsync(dovecot: Dovecot, user: { name: string; password: string }): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-mbsync-'));
  const rc = path.join(dir, 'mbsyncrc');
  mkdirSync(path.join(dir, 'mail'));
  writeFileSync(rc, [
    'IMAPAccount bench', 'Host 127.0.0.1', `Port ${dovecot.imapPort}`, `User ${user.name}`, `Pass ${user.password}`,
    // isync 1.4 (Debian 12) spells it SSLType; the channel is plaintext on loopback, like the others.
    'SSLType None', 'AuthMechs LOGIN', '',
    'IMAPStore remote', 'Account bench', '',
    'MaildirStore local', `Path ${dir}/mail/`, `Inbox ${dir}/mail/INBOX`, '',
    'Channel bench', 'Far :remote:', 'Near :local:', 'Patterns INBOX', 'Sync Pull', 'Create Near', 'SyncState *', '',
  ].join('\n'));
  try {
    execFileSync('mbsync', ['-q', '-c', rc, 'bench'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`mbsync failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  return Number(execFileSync('sh', ['-c', `ls ${dir}/mail/INBOX/new ${dir}/mail/INBOX/cur | grep -vc '^$\\|:$'`]).toString().trim());
}

async function main(): Promise<void> {
  const dovecot = await Dovecot.start();
  try {
    const user = dovecot.addUser('bench');
    progress(`seeding ${N} messages into Dovecot`);
    const corpusBytes = seedCorpus(dovecot, user.name, N);
    progress(`corpus: ${N} messages, ${fmt(corpusBytes / 1e6, 1)} MB; warming Dovecot's index and the page cache`);
    await rawFetch(dovecot, user);

    const raw = await timed(() => rawFetch(dovecot, user));
    progress(`raw imapflow fetch: ${raw.value.count} messages in ${fmt(raw.seconds, 2)} s`);

    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'bench', user: user.name, profile: 'plain' }],
      profiles: [{ id: 'plain', incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' }, auth: { mode: 'mailbox' } }],
      organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
      sync: { batchSize: 200 },
    });
    const store = await openStore({ path: path.join(lab.dir, 'ingest.db') });
    const deps = { store, clock: systemClock, logger: createLogger('silent'), autodiscover: () => undefined };
    const incoming = createIncoming(deps, () => 1);
    const ingest = await timed(() => runCycle(incoming, lab.config.mailboxes[0]!, lab.config.profiles.find((p) => p.id === 'plain')!, lab.config, deps, { retry: false }));
    await incoming.close();
    if (ingest.value.result !== 'success') throw new Error(`ingest failed: ${JSON.stringify(ingest.value)}`);
    const stored = await store.mail.countEmails('bench');
    await store.close();
    progress(`mailsync ingest: ${ingest.value.itemsProcessed} messages (${stored} stored) in ${fmt(ingest.seconds, 2)} s`);

    const mb = await timed(async () => mbsync(dovecot, user));
    progress(`mbsync: ${mb.value} messages in ${fmt(mb.seconds, 2)} s`);
    if (raw.value.count !== N || stored !== N || mb.value !== N) {
      throw new Error(`message counts differ: corpus ${N}, raw ${raw.value.count}, mailsync ${stored}, mbsync ${mb.value}`);
    }

    const ingestRate = N / ingest.seconds;
    const rawRate = N / raw.seconds;
    const mbsyncRate = N / mb.seconds;
    console.log(
      `RESULT ingest_msgs_per_s=${fmt(ingestRate)} raw_fetch_msgs_per_s=${fmt(rawRate)} mbsync_msgs_per_s=${fmt(mbsyncRate)} ` +
      `ratio_raw=${fmt(ingestRate / rawRate, 2)} ratio_mbsync=${fmt(ingestRate / mbsyncRate, 2)} peak_rss_mb=${peakRssMb()}`,
    );
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
