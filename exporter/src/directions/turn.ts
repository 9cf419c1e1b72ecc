import { taxonomyEntry } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { approvalBlockOf } from '../lifecycle/approval.js';
import { recordFailure } from '../lifecycle/failure.js';
import { alertTargets } from '../policy/failure.js';
import { gate } from '../policy/gate.js';
import { isRetryAttempt } from '../policy/retry.js';
import type { RunResult } from '../scheduler/scheduler.js';
import type { CycleConfig, DirectionDeps, DirectionRunner } from './contract.js';
import { runCycle, type CycleOutcome } from './run.js';

export type TurnResult = RunResult & { outcome?: CycleOutcome; retry?: boolean };

/** One scheduled turn of a mailbox direction; the scheduler and the test harness both run these. */
export type Turn = (mailbox: Mailbox, profile: Profile, signal?: AbortSignal) => Promise<TurnResult>;

/**
 * The one turn factory: applies the lifecycle gate (disabled, waiting for a retry, not approved),
 * runs the direction's cycle when allowed, and tells the scheduler when to come back. An unapproved
 * mailbox is disabled with the approval code without being contacted.
 */
export function createTurn(runner: DirectionRunner, config: () => CycleConfig, deps: DirectionDeps): Turn {
  return async (mailbox, profile, signal) => {
    const { store, clock } = deps;
    const direction = runner.name;
    const cfg = config();
    const { state, lifecycle } = await store.runs.gateState(mailbox.id, direction);
    const decision = gate({
      disabled: state?.disabled ?? false,
      nextAttemptAt: state?.nextAttemptAt ?? null,
      approvalBlock: approvalBlockOf(lifecycle, profile, cfg.organization),
    }, clock.now());

    if (decision.action === 'wait') return { nextDueAt: decision.until };
    if (decision.action === 'block') return blocked(runner, mailbox, profile, decision.code, deps);

    const retry = isRetryAttempt(state?.consecutiveFailures ?? 0);
    const outcome = await runCycle(runner, mailbox, profile, cfg, deps, { retry, signal });
    if (outcome.result !== 'failure') {
      return { outcome, retry, ...(outcome.nextDueAt !== undefined ? { nextDueAt: outcome.nextDueAt } : {}) };
    }
    // A disabled mailbox keeps no connection open on the server.
    if (outcome.disabled) runner.release(mailbox.id);
    return { nextDueAt: outcome.disabled ? null : outcome.nextAttemptAt, outcome, retry };
  };
}

/** The turns of every direction, keyed by name, as the service schedules them. */
export function createTurns(directions: Iterable<DirectionRunner>, config: () => Config, deps: DirectionDeps): Map<string, Turn> {
  return new Map([...directions].map((d) => [d.name, createTurn(d, config, deps)]));
}

async function blocked(runner: DirectionRunner, mailbox: Mailbox, profile: Profile, code: ReturnType<typeof taxonomyEntry>['code'], deps: DirectionDeps): Promise<TurnResult> {
  const { store, clock, logger } = deps;
  const direction = runner.name;
  const at = clock.now();
  const message = taxonomyEntry(code).summary;
  await store.transaction(async (tx) => {
    const runId = await tx.runs.startRun(mailbox.id, direction, at, false);
    // The mailbox now waits for someone's decision: "pending approval", in the product's words.
    if ((await tx.lifecycle.get(mailbox.id)).approval === 'empty') await tx.lifecycle.setApproval(mailbox.id, 'pending', 'system', 'system', at);
    await tx.runs.finishRun(runId, {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: code, errorMessage: message,
      failure: { class: 'permanent', scope: 'mailbox', nextAttemptAt: null },
    });
    await recordFailure(tx, {
      mailboxId: mailbox.id, direction, code, class: 'permanent', scope: 'mailbox', message, at,
      alerts: alertTargets('mailbox', mailbox.id, profile.id), disableBy: 'system',
    });
  });
  logger.warn({ mailbox: mailbox.id, direction, code }, 'mailbox not approved: disabled without contacting the server');
  const outcome: CycleOutcome = {
    mailbox: mailbox.id, direction, result: 'failure', durationSeconds: 0, code,
    class: 'permanent', scope: 'mailbox', message, disabled: true, nextAttemptAt: null, consecutiveFailures: 1,
  };
  return { nextDueAt: null, outcome };
}
