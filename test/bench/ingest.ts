/**
 * bench:ingest: one folder of realistic mail in a real Dovecot, read three ways in one run:
 * raw imapflow FETCH of the sources (baseline), mailsync's ingest (fetch + header parse + hash +
 * store), and mbsync (Debian isync) into a Maildir. Then every stored message is read back through
 * the store's consumer API (`mail.openRaw`) from the pack files, against the same bytes read from
 * a store that keeps them inline in SQLite rows (the store before packs). Prints figures, then the
 * RESULT line.
 * BENCH_MESSAGES sets the corpus size (default 5000). `--store postgresql` (or BENCH_STORE=postgresql)
 * also ingests the same folder into a PostgreSQL store (a throw-away local cluster) and reads it
 * back, against the SQLite run of the same process: pg_ingest_msgs_per_s, ratio_pg_sqlite, pg_read_ms.
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
import { buffer } from 'node:stream/consumers';
import { openStore, SqliteStore, type Store } from '../../exporter/src/store/index.js';
import { writeLabConfig } from '../harness/config.js';
import { Postgres } from '../harness/postgres.js';
import { Dovecot } from '../harness/dovecot.js';
import { fmt, peakRssMb, profiled, progress, seedCorpus, sizeFromEnv, timed } from './common.js';

const N = sizeFromEnv('BENCH_MESSAGES', 5_000);
const WITH_POSTGRES = process.argv.includes('--store=postgresql') || process.argv.slice(2).join(' ').includes('--store postgresql')
  || process.env.BENCH_STORE === 'postgresql';

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

/**
 * Reads every message of mailbox 'bench' through openRaw from `store` (packs), then from a store
 * holding the same bytes inline in its rows (built first, untimed). Milliseconds each.
 */
async function readBack(store: Store, inlineFile: string): Promise<{ packMs: number; inlineMs: number }> {
  const inline = new SqliteStore({ path: inlineFile, packDir: null });
  const ids: number[] = [];
  const inlineIds: number[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await store.mail.listEmails('bench', 200, offset);
    if (page.length === 0) break;
    const emails = await Promise.all(page.map(async (e, i) => ({
      uid: offset + i + 1, raw: (await store.mail.getRawEmail(e.id))!, sha256: Buffer.from(e.contentSha256, 'hex'), headers: e,
    })));
    await inline.mail.commitBatch({ mailboxId: 'bench', folder: 'INBOX', uidvalidity: 1, lastUid: offset + page.length, emails, failures: [], at: 0 });
    ids.push(...page.map((e) => e.id));
  }
  for (let offset = 0; ; offset += 1_000) {
    const page = await inline.mail.listEmails('bench', 1_000, offset);
    if (page.length === 0) break;
    inlineIds.push(...page.map((e) => e.id));
  }
  const readAll = async (s: Store, list: number[]) => {
    let bytes = 0;
    for (const id of list) bytes += (await buffer((await s.mail.openRaw(id))!)).length;
    return bytes;
  };
  // Alternated, three passes each, the fastest of each kept: the first pass warms the page cache
  // and SQLite's, and a noisy neighbour slows one pass rather than one side.
  let packMs = Infinity;
  let inlineMs = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const pack = await timed(() => readAll(store, ids));
    const rows = await timed(() => readAll(inline, inlineIds));
    if (pack.value !== rows.value) throw new Error(`read back ${pack.value} bytes from packs, ${rows.value} from rows`);
    packMs = Math.min(packMs, pack.seconds * 1_000);
    inlineMs = Math.min(inlineMs, rows.seconds * 1_000);
  }
  await inline.close();
  return { packMs, inlineMs };
}

type LabConfig = ReturnType<typeof writeLabConfig>['config'];

/** One incoming cycle of mailbox 'bench' into `store`, timed. */
async function ingestInto(store: Store, config: LabConfig) {
  const deps = { store, clock: systemClock, logger: createLogger('silent'), autodiscover: () => undefined };
  const incoming = createIncoming(deps, () => 1);
  const ingest = await timed(() => runCycle(incoming, config.mailboxes[0]!, config.profiles.find((p) => p.id === 'plain')!, config, deps, { retry: false }));
  await incoming.close();
  if (ingest.value.result !== 'success') throw new Error(`ingest failed: ${JSON.stringify(ingest.value)}`);
  return { seconds: ingest.seconds, itemsProcessed: ingest.value.itemsProcessed };
}

/** The same ingest into PostgreSQL, then every message read back through openRaw (best of three). RESULT fields. */
async function postgresRun(config: LabConfig, sqliteSeconds: number): Promise<string> {
  const pg = await Postgres.start();
  try {
    const store = await openStore({ driver: 'postgresql', path: 'unused', postgresql: { url: await pg.createDatabase('bench') }, runner: 'bench' });
    try {
      const ingest = await ingestInto(store, config);
      const stored = await store.mail.countEmails('bench');
      if (stored !== N) throw new Error(`PostgreSQL stored ${stored} of ${N} messages`);
      const ids = (await store.mail.listEmails('bench', N)).map((e) => e.id);
      let readMs = Infinity;
      for (let pass = 0; pass < 3; pass++) {
        const read = await timed(async () => {
          for (const id of ids) await buffer((await store.mail.openRaw(id))!);
        });
        readMs = Math.min(readMs, read.seconds * 1_000);
      }
      progress(`PostgreSQL: ingest ${N} messages in ${fmt(ingest.seconds, 2)} s, read back in ${fmt(readMs)} ms`);
      return ` pg_ingest_msgs_per_s=${fmt(N / ingest.seconds)} ratio_pg_sqlite=${fmt(sqliteSeconds / ingest.seconds, 2)} pg_read_ms=${fmt(readMs)}`;
    } finally {
      await store.close();
    }
  } finally {
    await pg.destroy();
  }
}

async function main(): Promise<void> {
  const dovecot = await Dovecot.start();
  try {
    const user = dovecot.addUser('bench');
    progress(`seeding ${N} messages into Dovecot`);
    const corpusBytes = seedCorpus(dovecot, user.name, N);
    progress(`corpus: ${N} messages, ${fmt(corpusBytes / 1e6, 1)} MB; warming Dovecot's index and the page cache`);
    await rawFetch(dovecot, user);

    // BENCH_CPU_PROFILE=<dir>: a CPU profile of each side, the baseline and mailsync's ingest, apart.
    const raw = await profiled('raw-fetch', () => timed(() => rawFetch(dovecot, user)));
    progress(`raw imapflow fetch: ${raw.value.count} messages in ${fmt(raw.seconds, 2)} s`);

    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'bench', user: user.name, profile: 'plain' }],
      profiles: [{ id: 'plain', incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' }, auth: { mode: 'mailbox' } }],
      organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
      sync: { batchSize: 200 },
    });
    const store = await openStore({ path: path.join(lab.dir, 'ingest.db') });
    const ingest = await profiled('ingest', () => ingestInto(store, lab.config));
    const stored = await store.mail.countEmails('bench');
    const reads = await readBack(store, path.join(lab.dir, 'inline.db'));
    await store.close();
    progress(`read back ${stored} messages: ${fmt(reads.packMs)} ms from packs, ${fmt(reads.inlineMs)} ms from SQLite rows`);
    progress(`mailsync ingest: ${ingest.itemsProcessed} messages (${stored} stored) in ${fmt(ingest.seconds, 2)} s`);

    const mb = await timed(async () => mbsync(dovecot, user));
    progress(`mbsync: ${mb.value} messages in ${fmt(mb.seconds, 2)} s`);
    if (raw.value.count !== N || stored !== N || mb.value !== N) {
      throw new Error(`message counts differ: corpus ${N}, raw ${raw.value.count}, mailsync ${stored}, mbsync ${mb.value}`);
    }

    const pg = WITH_POSTGRES ? await postgresRun(lab.config, ingest.seconds) : '';

    const ingestRate = N / ingest.seconds;
    const rawRate = N / raw.seconds;
    const mbsyncRate = N / mb.seconds;
    console.log(
      `RESULT ingest_msgs_per_s=${fmt(ingestRate)} raw_fetch_msgs_per_s=${fmt(rawRate)} mbsync_msgs_per_s=${fmt(mbsyncRate)} ` +
      `ratio_raw=${fmt(ingestRate / rawRate, 2)} ratio_mbsync=${fmt(ingestRate / mbsyncRate, 2)} ` +
      `read_ms=${fmt(reads.packMs)} inline_read_ms=${fmt(reads.inlineMs)} read_ratio=${fmt(reads.inlineMs / reads.packMs, 2)}${pg} peak_rss_mb=${peakRssMb()}`,
    );
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
