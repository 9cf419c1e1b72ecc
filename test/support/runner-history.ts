import type { Running } from '../harness/cli.js';

/**
 * Checks on the shared store and the processes of the tests with several real runners
 * (runners.test.ts, runners-outgoing.test.ts): what the run history must never show, and what
 * each runner answers on its HTTP listener.
 */
export type Sql = <R extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;

/** A `mailsync run` process of such a test and the listener it serves. */
export interface RunnerProcess {
  run: Running;
  listen: string;
}

/** Overlapping runs of different runners in one mailbox direction, from the sync_run history. */
export async function overlappingRuns(sql: Sql): Promise<string[]> {
  const runs = await sql<{ mailbox_id: string; direction: string; runner: string; started_at: string; finished_at: string | null }>(
    'SELECT mailbox_id, direction, runner, started_at::text, finished_at::text FROM sync_run ORDER BY mailbox_id, direction, started_at');
  const problems: string[] = [];
  const byKey = new Map<string, typeof runs>();
  for (const r of runs) byKey.set(`${r.mailbox_id}/${r.direction}`, [...(byKey.get(`${r.mailbox_id}/${r.direction}`) ?? []), r]);
  for (const [key, list] of byKey) {
    for (let i = 0; i < list.length; i += 1) {
      for (let j = i + 1; j < list.length; j += 1) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.runner === b.runner) continue;
        const aEnd = a.finished_at === null ? Infinity : Number(a.finished_at);
        const bEnd = b.finished_at === null ? Infinity : Number(b.finished_at);
        if (Number(a.started_at) < bEnd && Number(b.started_at) < aEnd) {
          problems.push(`${key}: ${a.runner} ${a.started_at}-${a.finished_at} and ${b.runner} ${b.started_at}-${b.finished_at}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Runs left open that no cycle will close: an open run is only right as the latest run of its
 * mailbox direction, opened by a runner still running (`live`).
 */
export async function staleOpenRuns(sql: Sql, live: string[]): Promise<string[]> {
  const rows = await sql<{ mailbox_id: string; direction: string; runner: string; id: string }>(`SELECT r.mailbox_id, r.direction, r.runner, r.id::text
    FROM sync_run r WHERE r.result IS NULL AND (r.runner <> ALL($1) OR EXISTS (SELECT 1 FROM sync_run l
      WHERE l.mailbox_id = r.mailbox_id AND l.direction = r.direction AND l.id > r.id))`, [live]);
  return rows.map((r) => `${r.mailbox_id}/${r.direction}: run ${r.id} of ${r.runner}`);
}

/** The ids of the runners whose process has not exited. */
export function liveRunners(runners: Map<string, RunnerProcess>): string[] {
  return [...runners].filter(([, r]) => r.run.child.exitCode === null && r.run.child.signalCode === null).map(([id]) => id);
}

/** Whether a runner's readiness endpoint answers 200; a runner that exited fails the wait at once. */
export async function isReady(id: string, { run, listen }: RunnerProcess): Promise<boolean> {
  if (run.child.exitCode !== null) throw new Error(`${id} exited (${run.child.exitCode}): ${run.stderr()}`);
  try {
    return (await fetch(`http://${listen}/-/ready`)).status === 200;
  } catch {
    return false;
  }
}

/** The sum of a counter family's samples on a runner's /metrics. */
export async function counterSum({ listen }: RunnerProcess, family: string): Promise<number> {
  const text = await (await fetch(`http://${listen}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The JSON log lines a runner wrote so far. */
export function logLines(run: Running): Record<string, unknown>[] {
  return (run.stdout() + run.stderr()).split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).map((l) => JSON.parse(l) as Record<string, unknown>);
}
