/**
 * BENCH_PG_STATEMENTS=1 for bench:scale: where the database's time went in each PostgreSQL initial
 * sync, by statement (pg_stat_statements). A statement's time includes waiting for locks, so a
 * statement whose mean is far above its neighbours' is queued behind a lock, not slow in itself;
 * calls per mailbox count the round trips a sync costs (BEGIN and COMMIT included).
 */
import type { Postgres } from '../harness/postgres.js';
import { fmt, progress } from './common.js';

export const STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

/** Makes `db` record its statements from now on (a server started with `statements: true`). */
export async function recordStatements(server: Postgres, db: string): Promise<void> {
  if (!STATEMENTS) return;
  await server.sql('CREATE EXTENSION IF NOT EXISTS pg_stat_statements', [], db);
  await server.sql('SELECT pg_stat_statements_reset()', [], db);
}

/** Prints `db`'s statements by total time since recordStatements (the top `top`), then resets. */
export async function reportStatements(server: Postgres, db: string, mailboxes: number, top = 8): Promise<void> {
  if (!STATEMENTS) return;
  const rows = await server.sql<{ calls: number; total_ms: number; mean_ms: number; query: string }>(
    `SELECT calls::float8 AS calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms, regexp_replace(query, '\\s+', ' ', 'g') AS query
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC`, [], db);
  const calls = rows.reduce((n, r) => n + r.calls, 0);
  progress(`${db}: ${fmt(calls / mailboxes, 1)} statements a mailbox, ${fmt(rows.reduce((n, r) => n + r.total_ms, 0) / 1_000, 1)} s of statement time; the top ${top}:`);
  for (const r of rows.slice(0, top)) {
    progress(`${db}:   ${fmt(r.total_ms / 1_000, 2)} s, ${fmt(r.calls / mailboxes, 2)} a mailbox, mean ${fmt(r.mean_ms, 2)} ms: ${r.query.slice(0, 110)}`);
  }
  await server.sql('SELECT pg_stat_statements_reset()', [], db);
}
