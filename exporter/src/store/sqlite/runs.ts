import type Database from 'better-sqlite3';
import { emptyLifecycle, type Direction, type DirectionState, type GateState, type RunFinish, type ScrapeRow, type SyncRun } from '../types.js';
import { toLifecycle, type LifecycleRow } from './lifecycle.js';

/**
 * How many finished runs are kept per mailbox and direction. Failures are kept longer than
 * successes so that the reason for a page is still there when someone looks (blackbox_exporter's
 * history works the same way).
 */
export const RUN_HISTORY = { successes: 20, failures: 100 } as const;

/** Sync runs and the runtime state of each mailbox direction, in SQLite. */
export class SqliteRuns {
  readonly #s;
  readonly #start: (mailboxId: string, direction: Direction, at: number, retry: boolean) => number;
  readonly #finish: (runId: number, finish: RunFinish) => void;

  constructor(db: Database.Database) {
    const s = prepare(db);
    this.#s = s;
    this.#start = db.transaction((mailboxId: string, direction: Direction, at: number, retry: boolean) => {
      s.ensureState.run(mailboxId, direction);
      s.markStarted.run(at, retry ? 1 : 0, mailboxId, direction);
      // G: an open run of this direction is a dead cycle's (one cycle per direction at a time): one
      // that met the store failing could not close its run, which then stayed open for good.
      s.abortOpenRunsOf.run(at, 'a later run of the direction began', mailboxId, direction);
      return Number(s.insertRun.run(mailboxId, direction, at).lastInsertRowid);
    });
    this.#finish = db.transaction((runId: number, finish: RunFinish) => finishRun(s, runId, finish));
  }

  startRun(mailboxId: string, direction: Direction, at: number, retry: boolean): number {
    return this.#start(mailboxId, direction, at, retry);
  }

  finishRun(runId: number, finish: RunFinish): void {
    this.#finish(runId, finish);
  }

  abortUnfinishedRuns(at: number): number {
    return this.#s.abortOpenRuns.run(at).changes;
  }

  abortOpenRunsOf(mailboxId: string, direction: Direction, at: number): number {
    return this.#s.abortOpenRunsOf.run(at, 'lease taken over: the runner that ran it stopped or lost the lease', mailboxId, direction).changes;
  }

  listRuns(mailboxId: string, limit = 50, result?: 'success' | 'failure' | 'aborted'): SyncRun[] {
    if (result) return this.#s.listRunsByResult.all(mailboxId, result, limit) as SyncRun[];
    return this.#s.listRuns.all(mailboxId, limit) as SyncRun[];
  }

  getDirectionState(mailboxId: string, direction: Direction): DirectionState | undefined {
    const row = this.#s.getState.get(mailboxId, direction) as StateRow | undefined;
    return row && { ...row, disabled: row.disabled === 1 };
  }

  gateState(mailboxId: string, direction: Direction): GateState {
    const row = this.#s.getLifecycle.get(mailboxId) as LifecycleRow | undefined;
    return { state: this.getDirectionState(mailboxId, direction), lifecycle: row ? toLifecycle(row) : emptyLifecycle(mailboxId) };
  }

  listDirectionStates(): DirectionState[] {
    return (this.#s.listStates.all() as StateRow[]).map((row) => ({ ...row, disabled: row.disabled === 1 }));
  }

  scrapeRows(): ScrapeRow[] {
    return this.#s.scrapeRows.all() as ScrapeRow[];
  }
}

type StateRow = Omit<DirectionState, 'disabled'> & { disabled: number };
type Statements = ReturnType<typeof prepare>;

function finishRun(s: Statements, runId: number, finish: RunFinish): void {
  const run = s.finishRun.get(finish.result, finish.at, finish.itemsProcessed, finish.itemsFailed,
    finish.errorCode ?? null, finish.errorMessage ?? null, runId) as { mailbox_id: string; direction: string } | undefined;
  if (!run) throw new Error(`no sync run ${runId}`);
  const key = { mailbox: run.mailbox_id, direction: run.direction };
  const counts = { ...key, at: finish.at, processed: finish.itemsProcessed, failed: finish.itemsFailed };
  if (finish.result === 'success') s.markSuccess.run(counts);
  else if (finish.result === 'failure') {
    const f = finish.failure;
    s.markFailure.run({
      ...counts, code: finish.errorCode ?? null, message: finish.errorMessage ?? null,
      class: f?.class ?? null, scope: f?.scope ?? null, nextAttemptAt: f?.nextAttemptAt ?? null,
    });
  } else s.markAborted.run(counts);
  // Only the result just added can have gone over its limit (aborted runs are not bounded). The
  // prune was two of the soak's costliest statements a run when it ran for both results.
  if (finish.result === 'success') s.pruneRuns.run({ ...key, result: 'success', keep: RUN_HISTORY.successes });
  else if (finish.result === 'failure') s.pruneRuns.run({ ...key, result: 'failure', keep: RUN_HISTORY.failures });
}

const RUN_SELECT = `SELECT id, mailbox_id AS mailboxId, direction, started_at AS startedAt, finished_at AS finishedAt,
  result, items_processed AS itemsProcessed, items_failed AS itemsFailed, error_code AS errorCode,
  error_message AS errorMessage FROM sync_run`;

const STATE_COLUMNS = `mailbox_id AS mailboxId, direction, status, last_run_started_at AS lastRunStartedAt,
  last_run_finished_at AS lastRunFinishedAt, last_success_at AS lastSuccessAt, last_failure_at AS lastFailureAt,
  last_error_code AS lastErrorCode, last_error_message AS lastErrorMessage, consecutive_failures AS consecutiveFailures,
  items_processed_total AS itemsProcessedTotal, items_failed_total AS itemsFailedTotal,
  last_error_class AS lastErrorClass, last_error_scope AS lastErrorScope, disabled = 1 AS disabled,
  disabled_code AS disabledCode, disabled_reason AS disabledReason, disabled_by AS disabledBy, disabled_at AS disabledAt,
  next_attempt_at AS nextAttemptAt, runs_success_total AS runsSuccessTotal, runs_failure_total AS runsFailureTotal,
  runs_aborted_total AS runsAbortedTotal, retries_total AS retriesTotal`;

function prepare(db: Database.Database) {
  return {
    ensureState: db.prepare('INSERT INTO mailbox_direction_state (mailbox_id, direction) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    // Whether a run is a retry is policy's decision (policy/retry.ts); the store only counts it.
    markStarted: db.prepare(`UPDATE mailbox_direction_state SET last_run_started_at = ?,
      retries_total = retries_total + ? WHERE mailbox_id = ? AND direction = ?`),
    insertRun: db.prepare('INSERT INTO sync_run (mailbox_id, direction, started_at) VALUES (?, ?, ?)'),
    finishRun: db.prepare(`UPDATE sync_run SET result = ?, finished_at = ?, items_processed = ?, items_failed = ?,
      error_code = ?, error_message = ? WHERE id = ? RETURNING mailbox_id, direction`),
    markSuccess: db.prepare(`UPDATE mailbox_direction_state SET status = 'success', last_run_finished_at = @at,
      last_success_at = @at, consecutive_failures = 0, next_attempt_at = NULL, runs_success_total = runs_success_total + 1, items_processed_total = items_processed_total + @processed,
      items_failed_total = items_failed_total + @failed WHERE mailbox_id = @mailbox AND direction = @direction`),
    markFailure: db.prepare(`UPDATE mailbox_direction_state SET status = 'failure', last_run_finished_at = @at,
      last_failure_at = @at, last_error_code = @code, last_error_message = @message, last_error_class = @class,
      last_error_scope = @scope, next_attempt_at = @nextAttemptAt, runs_failure_total = runs_failure_total + 1,
      consecutive_failures = consecutive_failures + 1, items_processed_total = items_processed_total + @processed,
      items_failed_total = items_failed_total + @failed WHERE mailbox_id = @mailbox AND direction = @direction`),
    markAborted: db.prepare(`UPDATE mailbox_direction_state SET last_run_finished_at = @at, runs_aborted_total = runs_aborted_total + 1,
      items_processed_total = items_processed_total + @processed, items_failed_total = items_failed_total + @failed
      WHERE mailbox_id = @mailbox AND direction = @direction`),
    pruneRuns: db.prepare(`DELETE FROM sync_run WHERE mailbox_id = @mailbox AND direction = @direction AND result = @result
      AND id NOT IN (SELECT id FROM sync_run WHERE mailbox_id = @mailbox AND direction = @direction AND result = @result
      ORDER BY id DESC LIMIT @keep)`),
    abortOpenRuns: db.prepare(`UPDATE sync_run SET result = 'aborted', finished_at = ?, error_message = 'runner stopped during the run'
      WHERE result IS NULL`),
    // A direction's open runs closed as aborted, with why: its next run began, or its lease was taken over.
    abortOpenRunsOf: db.prepare(`UPDATE sync_run SET result = 'aborted', finished_at = ?, error_message = ?
      WHERE result IS NULL AND mailbox_id = ? AND direction = ?`),
    listRuns: db.prepare(`${RUN_SELECT} WHERE mailbox_id = ? ORDER BY id DESC LIMIT ?`),
    listRunsByResult: db.prepare(`${RUN_SELECT} WHERE mailbox_id = ? AND result = ? ORDER BY id DESC LIMIT ?`),
    getState: db.prepare(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state WHERE mailbox_id = ? AND direction = ?`),
    listStates: db.prepare(`SELECT ${STATE_COLUMNS} FROM mailbox_direction_state ORDER BY mailbox_id, direction`),
    getLifecycle: db.prepare('SELECT * FROM mailbox_lifecycle WHERE mailbox_id = ?'),
    // Column order is ScrapeRow's.
    scrapeRows: db.prepare(`SELECT mailbox_id, direction, status, disabled, disabled_code, consecutive_failures, last_success_at,
      last_failure_at, last_error_code, last_error_class, last_error_scope, runs_success_total, runs_failure_total,
      runs_aborted_total, retries_total, items_processed_total FROM mailbox_direction_state`).raw(true),
  };
}
