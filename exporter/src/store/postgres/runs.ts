import { RUN_HISTORY } from '../sqlite/runs.js';
import type { Direction, DirectionState, RunFinish, ScrapeRow, SyncRun } from '../types.js';
import type { Db, Tx } from './connection.js';

/**
 * Sync runs and each mailbox direction's runtime state in PostgreSQL. Runs carry the runner that
 * opened them: with several runners on one database, a runner that starts closes only its own
 * runs left open (another runner's open runs are still running).
 */
export class PgRuns {
  readonly #db: Db;
  readonly #runner: string;

  constructor(db: Db, runner: string) {
    this.#db = db;
    this.#runner = runner;
  }

  startRun(mailboxId: string, direction: Direction, at: number, retry: boolean): Promise<number> {
    return this.#db.write(async (tx) => {
      await ensureState(tx, mailboxId, direction);
      await tx.query(`UPDATE mailbox_direction_state SET last_run_started_at = $1, retries_total = retries_total + $2
        WHERE mailbox_id = $3 AND direction = $4`, [at, retry ? 1 : 0, mailboxId, direction]);
      // G: a run of this direction still open is a dead cycle's: only the lease holder starts runs
      // (the write is fenced) and it runs one cycle per direction at a time. A cycle that met the
      // database down could not close its run; without this it stayed open for good.
      await abortOpenRuns(tx, mailboxId, direction, at, 'a later run of the direction began');
      const [row] = await tx.query<{ id: number }>('INSERT INTO sync_run (mailbox_id, direction, runner, started_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [mailboxId, direction, this.#runner, at]);
      return (row as { id: number }).id;
    });
  }

  finishRun(runId: number, finish: RunFinish): Promise<void> {
    return this.#db.write((tx) => finishRun(tx, runId, finish));
  }

  abortUnfinishedRuns(at: number): Promise<number> {
    return this.#db.write(async (tx) => (await tx.query(`UPDATE sync_run SET result = 'aborted', finished_at = $1,
      error_message = 'runner stopped during the run' WHERE result IS NULL AND runner = $2 RETURNING id`, [at, this.#runner])).length);
  }

  /** B: the new holder of a direction closes the run its previous holder left open (that runner died or lost the lease). */
  abortOpenRunsOf(mailboxId: string, direction: Direction, at: number): Promise<number> {
    return this.#db.write((tx) => abortOpenRuns(tx, mailboxId, direction, at, 'lease taken over: the runner that ran it stopped or lost the lease'));
  }

  listRuns(mailboxId: string, limit = 50, result?: 'success' | 'failure' | 'aborted'): Promise<SyncRun[]> {
    if (result) return this.#db.read(`${RUN_SELECT} WHERE mailbox_id = $1 AND result = $2 ORDER BY id DESC LIMIT $3`, [mailboxId, result, limit]);
    return this.#db.read(`${RUN_SELECT} WHERE mailbox_id = $1 ORDER BY id DESC LIMIT $2`, [mailboxId, limit]);
  }

  async getDirectionState(mailboxId: string, direction: Direction): Promise<DirectionState | undefined> {
    const [row] = await this.#db.read<DirectionState>(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state
      WHERE mailbox_id = $1 AND direction = $2`, [mailboxId, direction]);
    return row;
  }

  listDirectionStates(): Promise<DirectionState[]> {
    return this.#db.read(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state ORDER BY mailbox_id, direction`);
  }

  /** Column order is ScrapeRow's. */
  scrapeRows(): Promise<ScrapeRow[]> {
    return this.#db.readArrays<ScrapeRow>(`SELECT mailbox_id, direction, status, disabled, disabled_code, consecutive_failures,
      last_success_at, last_failure_at, last_error_code, last_error_class, last_error_scope, runs_success_total, runs_failure_total,
      runs_aborted_total, retries_total, items_processed_total FROM mailbox_direction_state`);
  }
}

export async function ensureState(tx: Tx, mailboxId: string, direction: Direction): Promise<void> {
  await tx.query('INSERT INTO mailbox_direction_state (mailbox_id, direction) VALUES ($1, $2) ON CONFLICT DO NOTHING', [mailboxId, direction]);
}

async function finishRun(tx: Tx, runId: number, finish: RunFinish): Promise<void> {
  const [run] = await tx.query<{ mailbox_id: string; direction: string }>(`UPDATE sync_run SET result = $1, finished_at = $2,
    items_processed = $3, items_failed = $4, error_code = $5, error_message = $6 WHERE id = $7 RETURNING mailbox_id, direction`,
  [finish.result, finish.at, finish.itemsProcessed, finish.itemsFailed, finish.errorCode ?? null, finish.errorMessage ?? null, runId]);
  if (!run) throw new Error(`no sync run ${runId}`);
  const key = [run.mailbox_id, run.direction, finish.at, finish.itemsProcessed, finish.itemsFailed];
  const totals = 'items_processed_total = items_processed_total + $4, items_failed_total = items_failed_total + $5';
  const where = 'WHERE mailbox_id = $1 AND direction = $2';
  if (finish.result === 'success') {
    await tx.query(`UPDATE mailbox_direction_state SET status = 'success', last_run_finished_at = $3, last_success_at = $3,
      consecutive_failures = 0, next_attempt_at = NULL, runs_success_total = runs_success_total + 1, ${totals} ${where}`, key);
  } else if (finish.result === 'failure') {
    const f = finish.failure;
    await tx.query(`UPDATE mailbox_direction_state SET status = 'failure', last_run_finished_at = $3, last_failure_at = $3,
      last_error_code = $6, last_error_message = $7, last_error_class = $8, last_error_scope = $9, next_attempt_at = $10,
      runs_failure_total = runs_failure_total + 1, consecutive_failures = consecutive_failures + 1, ${totals} ${where}`,
    [...key, finish.errorCode ?? null, finish.errorMessage ?? null, f?.class ?? null, f?.scope ?? null, f?.nextAttemptAt ?? null]);
  } else {
    await tx.query(`UPDATE mailbox_direction_state SET last_run_finished_at = $3, runs_aborted_total = runs_aborted_total + 1, ${totals} ${where}`, key);
  }
  for (const [result, keep] of [['success', RUN_HISTORY.successes], ['failure', RUN_HISTORY.failures]] as const) {
    await tx.query(`DELETE FROM sync_run WHERE mailbox_id = $1 AND direction = $2 AND result = $3 AND id NOT IN
      (SELECT id FROM sync_run WHERE mailbox_id = $1 AND direction = $2 AND result = $3 ORDER BY id DESC LIMIT $4)`,
    [run.mailbox_id, run.direction, result, keep]);
  }
}

const RUN_SELECT = `SELECT id, mailbox_id AS "mailboxId", direction, started_at AS "startedAt", finished_at AS "finishedAt",
  result, items_processed AS "itemsProcessed", items_failed AS "itemsFailed", error_code AS "errorCode",
  error_message AS "errorMessage" FROM sync_run`;

const STATE_COLUMNS = `mailbox_id AS "mailboxId", direction, status, last_run_started_at AS "lastRunStartedAt",
  last_run_finished_at AS "lastRunFinishedAt", last_success_at AS "lastSuccessAt", last_failure_at AS "lastFailureAt",
  last_error_code AS "lastErrorCode", last_error_message AS "lastErrorMessage", consecutive_failures AS "consecutiveFailures",
  items_processed_total AS "itemsProcessedTotal", items_failed_total AS "itemsFailedTotal",
  last_error_class AS "lastErrorClass", last_error_scope AS "lastErrorScope", disabled = 1 AS disabled,
  disabled_code AS "disabledCode", disabled_reason AS "disabledReason", disabled_by AS "disabledBy", disabled_at AS "disabledAt",
  next_attempt_at AS "nextAttemptAt", runs_success_total AS "runsSuccessTotal", runs_failure_total AS "runsFailureTotal",
  runs_aborted_total AS "runsAbortedTotal", retries_total AS "retriesTotal"`;

/** A direction's open runs closed as aborted, with why: its next run began, or its lease was taken over. */
async function abortOpenRuns(tx: Tx, mailboxId: string, direction: Direction, at: number, why: string): Promise<number> {
  return (await tx.query(`UPDATE sync_run SET result = 'aborted', finished_at = $1, error_message = $2
    WHERE result IS NULL AND mailbox_id = $3 AND direction = $4 RETURNING id`, [at, why, mailboxId, direction])).length;
}
