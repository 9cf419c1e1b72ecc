import { RUN_HISTORY } from '../sqlite/runs.js';
import { toLifecycle, type LifecycleRow } from '../sqlite/lifecycle.js';
import { emptyLifecycle, type Direction, type DirectionState, type GateState, type RunFinish, type ScrapeRow, type SyncRun } from '../types.js';
import { guardedWrite, prepared, type Db, type Tx } from './connection.js';

/**
 * startRun's statement ($1 mailbox, $2 direction, $3 time, $4 retry 0/1, $5 why open runs are
 * closed, $6 runner), fenced in itself (connection.ts: guardedWrite). SELECT rather than VALUES so
 * that each write can be guarded; the casts give the parameters the columns' types.
 */
const START_RUN = guardedWrite(6, (fence, held) => `WITH ${fence}state AS (
    INSERT INTO mailbox_direction_state (mailbox_id, direction, last_run_started_at, retries_total)
    SELECT $1::text, $2::text, $3::bigint, $4::bigint WHERE ${held}
    ON CONFLICT (mailbox_id, direction) DO UPDATE SET last_run_started_at = excluded.last_run_started_at,
      retries_total = mailbox_direction_state.retries_total + excluded.retries_total
  ), aborted AS (
    UPDATE sync_run SET result = 'aborted', finished_at = $3, error_message = $5::text
    WHERE result IS NULL AND mailbox_id = $1 AND direction = $2 AND ${held}
  )
  INSERT INTO sync_run (mailbox_id, direction, runner, started_at) SELECT $1, $2, $6::text, $3 WHERE ${held} RETURNING id`);

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

  /**
   * One statement, fenced in itself: the state row made or updated, the direction's runs still
   * open closed (G: only the lease holder starts runs and it runs one cycle per direction at a
   * time, so an open run is a dead cycle's, which could not close it when it met the database
   * down), the new run opened. The closing UPDATE sees the statement's snapshot, not the new run.
   */
  async startRun(mailboxId: string, direction: Direction, at: number, retry: boolean): Promise<number> {
    const [row] = await this.#db.writeOne<{ id: number }>(START_RUN,
      [mailboxId, direction, at, retry ? 1 : 0, 'a later run of the direction began', this.#runner]);
    if (!row) throw new Error(`no run started for ${mailboxId} ${direction}`);
    return row.id;
  }

  async finishRun(runId: number, finish: RunFinish): Promise<void> {
    const values: unknown[] = [finish.result, finish.at, finish.itemsProcessed, finish.itemsFailed, finish.errorCode ?? null,
      finish.errorMessage ?? null, runId];
    if (finish.result === 'failure') values.push(finish.failure?.class ?? null, finish.failure?.scope ?? null, finish.failure?.nextAttemptAt ?? null);
    const ended = await this.#db.writeOne(FINISH_RUN[finish.result], values);
    if (ended.length === 0) throw new Error(`no sync run ${runId}`);
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
    const [row] = await this.#db.read<DirectionState>(GET_STATE, [mailboxId, direction]);
    return row;
  }

  async gateState(mailboxId: string, direction: Direction): Promise<GateState> {
    const [row] = await this.#db.read<DirectionState & { hasState: boolean | null; lifecycle: LifecycleRow | null }>(GATE_STATE, [mailboxId, direction]);
    if (!row) throw new Error(`no gate state read for ${mailboxId}`);
    const { hasState, lifecycle, ...state } = row;
    return { state: hasState === true ? state : undefined, lifecycle: lifecycle ? toLifecycle(lifecycle) : emptyLifecycle(mailboxId) };
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

/** What a run's end sets on its direction's state, by result ($2 the time; failure: $5 code, $6 message, $8-$10 class, scope, next attempt). */
const FINISH_STATE = {
  success: `status = 'success', last_success_at = $2, consecutive_failures = 0, next_attempt_at = NULL, runs_success_total = runs_success_total + 1`,
  failure: `status = 'failure', last_failure_at = $2, last_error_code = $5, last_error_message = $6, last_error_class = $8,
    last_error_scope = $9, next_attempt_at = $10, runs_failure_total = runs_failure_total + 1, consecutive_failures = consecutive_failures + 1`,
  aborted: 'runs_aborted_total = runs_aborted_total + 1',
} as const;

/**
 * A run's end in one statement, fenced in itself (connection.ts: guardedWrite): the run row, its
 * direction's state and totals, and (for a success or a failure, the results whose history is
 * bounded) that result's history pruned to RUN_HISTORY: only the result just added can have gone
 * over its limit. The prune sees the statement's snapshot, where this run is still open, so it
 * keeps one fewer to end at the limit. Everything follows the run's UPDATE, so guarding it guards all.
 */
function finishStatement(result: RunFinish['result']) {
  const keep = result === 'success' ? RUN_HISTORY.successes : result === 'failure' ? RUN_HISTORY.failures : undefined;
  const prune = keep === undefined ? '' : `, pruned AS (
      DELETE FROM sync_run WHERE id IN (SELECT h.id FROM sync_run h JOIN run ON h.mailbox_id = run.mailbox_id AND h.direction = run.direction
        WHERE h.result = $1 ORDER BY h.id DESC OFFSET ${keep - 1}))`;
  return guardedWrite(result === 'failure' ? 10 : 7, (fence, held) => `WITH ${fence}run AS (
      UPDATE sync_run SET result = $1, finished_at = $2, items_processed = $3, items_failed = $4, error_code = $5, error_message = $6
      WHERE id = $7 AND ${held} RETURNING mailbox_id, direction
    ), state AS (
      UPDATE mailbox_direction_state s SET ${FINISH_STATE[result]}, last_run_finished_at = $2,
        items_processed_total = items_processed_total + $3, items_failed_total = items_failed_total + $4
      FROM run WHERE s.mailbox_id = run.mailbox_id AND s.direction = run.direction
    )${prune}
    SELECT 1 FROM run`);
}

/** One statement per result, each prepared once per connection. */
const FINISH_RUN = { success: finishStatement('success'), failure: finishStatement('failure'), aborted: finishStatement('aborted') } as const;

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

const GET_STATE = prepared(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state WHERE mailbox_id = $1 AND direction = $2`);

/**
 * The state and the lifecycle in one row, either of them possibly absent. The lifecycle comes as
 * JSON (its columns are text and integers, which JSON keeps as they are), so the statement's result
 * does not change shape when a migration adds a lifecycle column and it can stay prepared.
 */
const GATE_STATE = prepared(`SELECT st.*, (SELECT row_to_json(l) FROM mailbox_lifecycle l WHERE l.mailbox_id = $1) AS lifecycle
  FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT true AS "hasState", ${STATE_COLUMNS} FROM mailbox_direction_state
    WHERE mailbox_id = $1 AND direction = $2) st ON true`);

/** A direction's open runs closed as aborted, with why: its next run began, or its lease was taken over. */
async function abortOpenRuns(tx: Tx, mailboxId: string, direction: Direction, at: number, why: string): Promise<number> {
  return (await tx.query(`UPDATE sync_run SET result = 'aborted', finished_at = $1, error_message = $2
    WHERE result IS NULL AND mailbox_id = $3 AND direction = $4 RETURNING id`, [at, why, mailboxId, direction])).length;
}
