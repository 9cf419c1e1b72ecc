import { taxonomyEntry } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { approvalBlock, type ApprovalState } from '../policy/approval.js';
import { gate } from '../policy/gate.js';
import type { RunResult } from '../scheduler/scheduler.js';
import type { Direction, Lifecycle, Store } from '../store/index.js';
import { runIncomingCycle, type CycleDeps } from './cycle.js';
import type { CycleOutcome } from './run-record.js';

/** A profile whose one account can read every mailbox: each address needs an admin's approval. */
export function isTrustedProfile(profile: Profile): boolean {
  return profile.auth.mode === 'impersonation';
}

export function approvalOf(lifecycle: Lifecycle): ApprovalState {
  const role = lifecycle.approvalRole;
  return { approval: lifecycle.approval, approvedByRole: role === 'admin' || role === 'operator' || role === 'viewer' ? role : null };
}

export function approvalBlockFor(store: Store, mailbox: Mailbox, profile: Profile, organization: Config['organization']) {
  return approvalBlock(approvalOf(store.lifecycle.get(mailbox.id)), isTrustedProfile(profile), organization);
}

export interface ScheduledTurn {
  direction: Direction;
  mailbox: Mailbox;
  profile: Profile;
  organization: Config['organization'];
  store: Store;
  clock: CycleDeps['clock'];
  logger: CycleDeps['logger'];
  /** Close the mailbox's kept connections once it is disabled. */
  disconnect: () => void;
  /** The cycle itself; may name a time to come back (a postponed email). */
  cycle: () => Promise<CycleOutcome & { postponedUntil?: number }>;
}

/**
 * One scheduled turn of a mailbox direction: applies the lifecycle gate (disabled, waiting for a
 * retry, not approved), runs the cycle when allowed, and tells the scheduler when to come back.
 * An unapproved mailbox is disabled with the approval code without being contacted.
 */
export async function runScheduled(turn: ScheduledTurn): Promise<RunResult & { outcome?: CycleOutcome; retry?: boolean }> {
  const { store, clock, logger, mailbox, profile, direction } = turn;
  const state = store.getDirectionState(mailbox.id, direction);
  const decision = gate({
    disabled: state?.disabled ?? false,
    nextAttemptAt: state?.nextAttemptAt ?? null,
    approvalBlock: approvalBlockFor(store, mailbox, profile, turn.organization),
  }, clock.now());

  if (decision.action === 'wait') return { nextDueAt: decision.until };
  if (decision.action === 'block') {
    const at = clock.now();
    const message = taxonomyEntry(decision.code).summary;
    const runId = store.startRun(mailbox.id, direction, at);
    // The mailbox now waits for someone's decision: "pending approval", in the product's words.
    if (store.lifecycle.get(mailbox.id).approval === 'empty') store.lifecycle.setApproval(mailbox.id, 'pending', 'system', 'system', at);
    store.finishRun(runId, {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: decision.code, errorMessage: message,
      failure: { class: 'permanent', scope: 'mailbox', disable: true, nextAttemptAt: null, profileId: profile.id },
    });
    logger.warn({ mailbox: mailbox.id, direction, code: decision.code }, 'mailbox not approved: disabled without contacting the server');
    const outcome: CycleOutcome = {
      mailbox: mailbox.id, direction, result: 'failure', durationSeconds: 0, code: decision.code,
      class: 'permanent', scope: 'mailbox', message, disabled: true, nextAttemptAt: null, consecutiveFailures: 1,
    };
    return { nextDueAt: null, outcome };
  }

  // A run after a failed one is an attempt of the retry policy.
  const retry = (state?.consecutiveFailures ?? 0) > 0;
  const outcome = await turn.cycle();
  if (outcome.result !== 'failure') {
    return { outcome, retry, ...(outcome.postponedUntil !== undefined ? { nextDueAt: outcome.postponedUntil } : {}) };
  }
  if (outcome.disabled) {
    // A disabled mailbox keeps no connection open on the server.
    turn.disconnect();
    return { nextDueAt: null, outcome, retry };
  }
  return { nextDueAt: outcome.nextAttemptAt, outcome, retry };
}

/** The incoming turn as the CLI and the tests run it. */
export function runScheduledIncoming(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization' | 'sync'>, deps: CycleDeps, signal?: AbortSignal,
) {
  return runScheduled({
    direction: 'incoming', mailbox, profile, organization: config.organization, store: deps.store, clock: deps.clock,
    logger: deps.logger, disconnect: () => deps.sessions.discard(mailbox.id),
    cycle: () => runIncomingCycle(mailbox, profile, config, deps, signal),
  });
}
