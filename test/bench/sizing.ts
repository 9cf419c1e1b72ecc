/**
 * bench:sizing: how big the PostgreSQL store gets and how much it writes (docs/scaling.md,
 * "Database sizing"). BENCH_MAILBOXES Dovecot users (default 3,000, bench:scale's figure) with
 * BENCH_MESSAGES messages each (default 3), synced by BENCH_RUNNERS runners (default 3) on one
 * fresh database of a server that keeps PostgreSQL's default full_page_writes=on; then
 * BENCH_PASSES no-change passes (default 3; every mailbox's next successful run), the first right
 * after a CHECKPOINT. Prints:
 * - per table: rows, pg_total_relation_size (heap, indexes, TOAST), bytes per row;
 * - bytes per mailbox (the tables with a row per mailbox or direction), per stored message (the
 *   email, its locations and its feed change) and per run row (sync_run, kept per the run-history
 *   limits);
 * - the WAL written (pg_current_wal_insert_lsn before and after) by the initial sync and by each pass, per
 *   pass and per run (a 1 s poll runs some mailboxes more than once in a pass), with the rows each
 *   table had written meanwhile (pg_stat_user_tables), lease renewals and heartbeats included;
 * - connections per runner from pg_stat_activity (its pool and the LISTEN client), the most seen
 *   during the sync and at the end;
 * The last line: RESULT with those figures; `overhead_per_message` = bytes per message beyond its raw
 * bytes (what a message costs whatever its size); `email_bytes_ratio` = the email table over the raw
 * message bytes it holds (the store's overhead against the mail itself, 1 = none; the lab's messages
 * are small, so it is far above what real mail of tens of KB shows).
 */
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';
import { fmt, progress, sizeFromEnv } from './common.js';
import { freshDatabase, startFleetDovecot, startRunner, succeededSince, type Runner } from './fleet-lab.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 3_000);
const MESSAGES = sizeFromEnv('BENCH_MESSAGES', 3);
const RUNNERS = sizeFromEnv('BENCH_RUNNERS', 3);
const PASSES = sizeFromEnv('BENCH_PASSES', 3);
const LEASE_SECONDS = sizeFromEnv('BENCH_LEASE_SECONDS', 10);
const TIMEOUT_MS = 1_800_000;
const DB = 'sizing';
/** The store's default pool per runner (store.postgresql.poolSize). */
const POOL_MAX = 10;

/** Tables with one row per mailbox or mailbox direction: what a mailbox costs before any mail. */
const PER_MAILBOX = ['definition', 'folder_cursor', 'leases', 'mailbox_direction_state', 'mailbox_lifecycle'];
/** What each stored message adds: its row (bytes included), where it is on the server, its change in the feed. */
const PER_MESSAGE = ['email', 'email_location', 'change_feed'];

interface TableSize { table: string; rows: number; total: number; heap: number; indexes: number; toast: number }

let server: Postgres;
const sql = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) => server.sql<R>(text, values, DB);

async function tableSizes(): Promise<TableSize[]> {
  const tables = await sql<{ table: string; total: number; heap: number; indexes: number; toast: number }>(`SELECT c.relname AS table,
      pg_total_relation_size(c.oid)::float8 AS total, pg_relation_size(c.oid)::float8 AS heap, pg_indexes_size(c.oid)::float8 AS indexes,
      coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::float8 AS toast
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC`);
  const sizes: TableSize[] = [];
  for (const t of tables) {
    // Exact counts (n_live_tup is an estimate until autovacuum's next analyze); names from the catalog.
    const [row] = await sql<{ n: number }>(`SELECT count(*)::float8 AS n FROM "${t.table.replaceAll('"', '""')}"`);
    sizes.push({ ...t, rows: row?.n ?? 0 });
  }
  return sizes;
}

/** Rows written per table so far (inserted, updated, deleted), from the statistics collector. */
async function tupleWrites(): Promise<Map<string, number>> {
  const rows = await sql<{ table: string; n: number }>('SELECT relname AS table, (n_tup_ins + n_tup_upd + n_tup_del)::float8 AS n FROM pg_stat_user_tables');
  return new Map(rows.map((r) => [r.table, r.n]));
}

const walLsn = async () => (await sql<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]?.lsn as string;
const walSince = async (lsn: string) => (await sql<{ bytes: number }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 AS bytes', [lsn]))[0]?.bytes ?? 0;

/** Per runner (its application_name `mailsync:<id>`): sessions now, and how many of them LISTEN. */
async function connections(): Promise<Map<string, { sessions: number; listening: number }>> {
  const rows = await sql<{ app: string; sessions: number; listening: number }>(`SELECT application_name AS app, count(*)::int AS sessions,
      count(*) FILTER (WHERE query LIKE 'LISTEN%')::int AS listening
    FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'mailsync:%' GROUP BY 1`, [DB]);
  return new Map(rows.map((r) => [r.app.slice('mailsync:'.length), { sessions: r.sessions, listening: r.listening }]));
}

/** Waits for every mailbox's next success started at or after `since`, sampling the runners' sessions meanwhile. */
async function everyMailboxSince(since: number, what: string, peak: Map<string, number>): Promise<void> {
  await waitFor(async () => {
    for (const [runner, c] of await connections()) peak.set(runner, Math.max(peak.get(runner) ?? 0, c.sessions));
    return succeededSince(server, DB, since);
  }, { what, until: (n) => n >= N, timeoutMs: TIMEOUT_MS, intervalMs: 250 });
}

const kib = (bytes: number) => fmt(bytes / 1024, 1);
const sum = (sizes: TableSize[], names: string[], key: 'total' | 'rows' = 'total') => sizes.filter((s) => names.includes(s.table)).reduce((n, s) => n + s[key], 0);

function printTables(sizes: TableSize[]): void {
  console.log('| table | rows | total KiB | heap KiB | indexes KiB | TOAST KiB | bytes/row |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of sizes.filter((t) => t.total > 0)) {
    console.log(`| ${s.table} | ${s.rows} | ${kib(s.total)} | ${kib(s.heap)} | ${kib(s.indexes)} | ${kib(s.toast)} | ${s.rows > 0 ? fmt(s.total / s.rows) : '-'} |`);
  }
}

async function main(): Promise<void> {
  let fleet: Awaited<ReturnType<typeof startFleetDovecot>> | undefined;
  [server, fleet] = await Promise.all([Postgres.start({ fullPageWrites: true }), startFleetDovecot(N, MESSAGES)]);
  const runners: Runner[] = [];
  try {
    const url = await freshDatabase(server, DB);
    const empty = await sql<{ bytes: number }>('SELECT pg_database_size(current_database())::float8 AS bytes');
    const startLsn = await walLsn();
    const peak = new Map<string, number>();
    const spawned = Date.now();
    runners.push(...await Promise.all(Array.from({ length: RUNNERS }, (_, i) => startRunner(fleet!.dovecot, fleet!.names, {
      push: 'idle', pollIntervalSeconds: 1, label: `sizing-${i}`, store: { driver: 'postgresql', postgresql: { url } },
      runnerId: `r${i + 1}`, leaseSeconds: LEASE_SECONDS,
    }))));
    await everyMailboxSince(0, 'every mailbox\'s first success', peak);
    const initialWal = await walSince(startLsn);
    progress(`initial sync of ${N} mailboxes x ${MESSAGES} messages by ${RUNNERS} runner(s): ${fmt((Date.now() - spawned) / 1_000, 1)} s, WAL ${fmt(initialWal / 1_048_576, 1)} MiB`);
    const afterSync = await tableSizes();

    const passes: { wal: number; seconds: number; runs: number; checkpointed: boolean; writes: string }[] = [];
    for (let p = 0; p < PASSES; p += 1) {
      // The first pass right after a checkpoint: every page it changes goes to the WAL whole once.
      if (p === 0) await sql('CHECKPOINT');
      const lsn = await walLsn();
      const writesBefore = await tupleWrites();
      const started = Date.now();
      await everyMailboxSince(started, `no-change pass ${p + 1}`, peak);
      const wal = await walSince(lsn);
      // Runs since the pass began: with a 1 s poll some mailboxes run more than once before the last one's turn.
      const [runs] = await sql<{ n: number }>('SELECT count(*)::float8 AS n FROM sync_run WHERE started_at >= $1', [started]);
      const writesAfter = await tupleWrites();
      const writes = [...writesAfter].map(([t, n]) => [t, n - (writesBefore.get(t) ?? 0)] as const).filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t}=${n}`).join(' ');
      passes.push({ wal, seconds: (Date.now() - started) / 1_000, runs: runs?.n ?? 0, checkpointed: p === 0, writes });
      progress(`pass ${p + 1}${p === 0 ? ' (after a CHECKPOINT)' : ''}: ${fmt((Date.now() - started) / 1_000, 1)} s, ${runs?.n} runs, WAL ${kib(wal)} KiB ` +
        `(${fmt(wal / Math.max(1, runs?.n ?? 0))} B a run); rows written: ${writes}`);
    }
    const end = await tableSizes();
    const now = await connections();
    const [db] = await sql<{ bytes: number }>('SELECT pg_database_size(current_database())::float8 AS bytes');
    const [raw] = await sql<{ bytes: number }>('SELECT coalesce(sum(octet_length(raw)), 0)::float8 AS bytes FROM email');

    console.log(`\nAfter the initial sync (${N} mailboxes, ${sum(afterSync, ['email'], 'rows')} messages):`);
    printTables(afterSync);
    console.log(`\nAfter ${PASSES} no-change passes:`);
    printTables(end);
    const perMailbox = sum(end, PER_MAILBOX) / N;
    const messages = sum(end, ['email'], 'rows');
    const perMessage = sum(end, PER_MESSAGE) / Math.max(1, messages);
    const runsTable = end.find((t) => t.table === 'sync_run');
    const perRun = runsTable && runsTable.rows > 0 ? runsTable.total / runsTable.rows : 0;
    console.log(`\ndatabase ${fmt((db?.bytes ?? 0) / 1_048_576, 1)} MiB (empty, migrated: ${fmt((empty[0]?.bytes ?? 0) / 1_048_576, 1)} MiB); ` +
      `per mailbox ${fmt(perMailbox)} B (${PER_MAILBOX.join(', ')}); per message ${fmt(perMessage)} B (${PER_MESSAGE.join(', ')}; raw ${fmt((raw?.bytes ?? 0) / Math.max(1, messages))} B); per run row ${fmt(perRun)} B`);
    for (const [runner, c] of [...now].sort()) {
      console.log(`connections ${runner}: ${c.sessions} now (${c.listening} LISTEN), at most ${peak.get(runner) ?? 0} seen (pool max ${POOL_MAX} + 1 LISTEN)`);
    }
    const walPasses = passes.filter((p) => !p.checkpointed);
    const walPass = walPasses.length > 0 ? walPasses.reduce((n, p) => n + p.wal, 0) / walPasses.length : Number.NaN;
    const walPerRun = walPasses.reduce((n, p) => n + p.wal, 0) / Math.max(1, walPasses.reduce((n, p) => n + p.runs, 0));
    const sessions = [...now.values()];
    console.log(`RESULT mailboxes=${N} messages=${messages} runners=${RUNNERS} db_mib=${fmt((db?.bytes ?? 0) / 1_048_576, 1)} ` +
      `bytes_per_mailbox=${fmt(perMailbox)} bytes_per_message=${fmt(perMessage)} overhead_per_message=${fmt(perMessage - (raw?.bytes ?? 0) / Math.max(1, messages))} bytes_per_run=${fmt(perRun)} ` +
      `email_bytes_ratio=${fmt(sum(end, ['email']) / Math.max(1, raw?.bytes ?? 0), 2)} wal_initial_mib=${fmt(initialWal / 1_048_576, 1)} ` +
      `wal_pass_checkpointed_kib=${kib(passes[0]?.wal ?? 0)} wal_pass_kib=${kib(walPass)} wal_pass_per_mailbox_b=${fmt(walPass / N)} wal_per_run_b=${fmt(walPerRun)} ` +
      `connections_per_runner_max=${Math.max(0, ...peak.values())} listen_per_runner=${Math.max(0, ...sessions.map((s) => s.listening))}`);
  } finally {
    await Promise.all(runners.map((r) => r.remove()));
    await fleet?.dovecot.stop();
    await server?.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
