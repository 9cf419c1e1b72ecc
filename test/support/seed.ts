import type { ErrorClass, ErrorCode, Scope } from '../../exporter/src/classify/index.js';
import { recordFailure } from '../../exporter/src/lifecycle/failure.js';
import { alertTargets } from '../../exporter/src/policy/failure.js';
import type { Direction, StoreTx } from '../../exporter/src/store/index.js';

export interface SeededFailure {
  mailboxId: string;
  profileId: string;
  direction?: Direction;
  code: ErrorCode;
  class: ErrorClass;
  scope: Scope;
  message?: string;
  startedAt?: number;
  at: number;
  /** Policy disabled the direction with this failure. */
  disable: boolean;
  nextAttemptAt?: number | null;
}

/**
 * A failed run as the runner records it (run, state, alert records and disable in one
 * transaction, through the lifecycle module), for tests that need a fleet in a given state.
 */
export function seedFailure(store: StoreTx, f: SeededFailure): Promise<void> {
  const direction = f.direction ?? 'incoming';
  const message = f.message ?? f.code;
  return store.transaction(async (tx) => {
    const runId = await tx.runs.startRun(f.mailboxId, direction, f.startedAt ?? f.at, false);
    await tx.runs.finishRun(runId, {
      result: 'failure', at: f.at, itemsProcessed: 0, itemsFailed: 0, errorCode: f.code, errorMessage: message,
      failure: { class: f.class, scope: f.scope, nextAttemptAt: f.nextAttemptAt ?? null },
    });
    await recordFailure(tx, {
      mailboxId: f.mailboxId, direction, code: f.code, class: f.class, scope: f.scope, message, at: f.at,
      alerts: alertTargets(f.scope, f.mailboxId, f.profileId), disableBy: f.disable ? 'system' : null,
    });
  });
}
