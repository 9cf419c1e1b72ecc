/**
 * bench:scale's timeline of an initial sync with several runners on one PostgreSQL: where the
 * time between spawning the runners and the last mailbox's first success went. Read from the
 * database only (no /metrics scrape, which would load the runners it measures): the `runners`
 * table (each runner's first heartbeat, i.e. the end of its start-up), the `leases` table sampled
 * every half second (each runner's live leases over time) and the `sync_run` history (each
 * runner's first cycle and first success, successes per two seconds, aborted runs, and its runs
 * open at each sample: its cycles in flight, which show slots left idle while work waits).
 */
import type { Postgres } from '../harness/postgres.js';
import { fmt, progress } from './common.js';

const SAMPLE_MS = 500;
const BUCKET_MS = 2_000;

/** Per runner: live leases, and runs open now (its cycles in flight: fewer than its slots while work waits means idle slots). */
interface Sample { at: number; held: Map<string, number>; open: Map<string, number> }

export interface TimelineSampler {
  /** Stops sampling and prints the timeline, relative to `spawned` (ms since the epoch). */
  report(mailboxes: number): Promise<void>;
}

/** Samples each runner's live leases every half second until `report`. */
export function sampleTimeline(server: Postgres, db: string, spawned: number): TimelineSampler {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const count = (sql: string) => server.sql<{ runner: string; n: number }>(sql, [], db)
        .then((rows) => new Map(rows.map((r) => [r.runner, r.n])), () => new Map<string, number>());
      const [held, open] = await Promise.all([
        count('SELECT runner, count(*)::int AS n FROM leases WHERE runner IS NOT NULL AND expires_at > clock_timestamp() GROUP BY runner'),
        count('SELECT runner, count(*)::int AS n FROM sync_run WHERE result IS NULL GROUP BY runner'),
      ]);
      samples.push({ at, held, open });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SAMPLE_MS - (Date.now() - at))));
    }
  })();
  return {
    async report(mailboxes) {
      stopped = true;
      await loop;
      await printTimeline(server, db, spawned, samples, mailboxes);
    },
  };
}

const s = (ms: number | string | null | undefined, from: number): string => (ms === null || ms === undefined ? '-' : `${fmt((Number(ms) - from) / 1_000, 1)} s`);

async function printTimeline(server: Postgres, db: string, spawned: number, samples: Sample[], mailboxes: number): Promise<void> {
  const runners = await server.sql<{ id: string; started: string }>(
    'SELECT id, (extract(epoch FROM started_at) * 1000)::float8 AS started FROM runners ORDER BY id', [], db);
  const runs = await server.sql<{ runner: string; first_start: string; first_success: string | null; success: number; aborted: number; other: number }>(
    `SELECT runner, min(started_at) AS first_start, min(finished_at) FILTER (WHERE result = 'success') AS first_success,
      count(*) FILTER (WHERE result = 'success')::int AS success, count(*) FILTER (WHERE result = 'aborted')::int AS aborted,
      count(*) FILTER (WHERE result IS DISTINCT FROM 'success' AND result IS DISTINCT FROM 'aborted')::int AS other
      FROM sync_run GROUP BY runner ORDER BY runner`, [], db);
  const share = Math.ceil(mailboxes / Math.max(1, runners.length));
  for (const r of runners) {
    const run = runs.find((x) => x.runner === r.id);
    const firstLease = samples.find((x) => (x.held.get(r.id) ?? 0) > 0);
    const peak = Math.max(0, ...samples.map((x) => x.held.get(r.id) ?? 0));
    progress(`${db} timeline ${r.id}: first heartbeat ${s(Number(r.started), spawned)}, first lease seen ${s(firstLease?.at, spawned)}, ` +
      `peak held ${peak}, first cycle ${s(run ? Number(run.first_start) : undefined, spawned)}, first success ${s(run?.first_success, spawned)}, ` +
      `runs: ${run?.success ?? 0} success, ${run?.aborted ?? 0} aborted, ${run?.other ?? 0} other`);
  }
  const fair = samples.find((x) => runners.every((r) => Math.abs((x.held.get(r.id) ?? 0) - share) <= 1));
  progress(`${db} timeline: every runner at its fair share (${share}) ${s(fair?.at, spawned)}`);
  // Held leases and cycles in flight per runner every two seconds, and successes in each two seconds.
  const buckets = await server.sql<{ runner: string; b: number; n: number }>(
    `SELECT runner, floor((finished_at - $1) / ${BUCKET_MS})::int AS b, count(*)::int AS n FROM sync_run
      WHERE result = 'success' GROUP BY 1, 2 ORDER BY 2`, [spawned], db);
  const last = Math.max(0, ...buckets.map((b) => b.b));
  for (let b = 0; b <= last; b += 1) {
    const at = spawned + (b + 1) * BUCKET_MS;
    const sample = [...samples].reverse().find((x) => x.at <= at);
    const cells = runners.map((r) => `${r.id} held ${sample?.held.get(r.id) ?? 0} running ${sample?.open.get(r.id) ?? 0} ok ${buckets.find((x) => x.b === b && x.runner === r.id)?.n ?? 0}`);
    progress(`${db} timeline ${fmt((b * BUCKET_MS) / 1_000, 0).padStart(3)}-${fmt(((b + 1) * BUCKET_MS) / 1_000, 0)} s: ${cells.join(' | ')}`);
  }
}
