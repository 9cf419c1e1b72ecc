import { taxonomyEntry } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { approvalBlock, type ApprovalState } from '../policy/approval.js';
import { gate } from '../policy/gate.js';
import type { RunResult } from '../scheduler/scheduler.js';
import type { Lifecycle, Store } from '../store/index.js';
import { runIncomingCycle, type CycleDeps, type CycleOutcome } from './cycle.js';

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

/**
 * One scheduled turn of a mailbox's incoming direction: applies the lifecycle gate (disabled,
 * waiting for a retry, not approved), runs the cycle when allowed, and tells the scheduler when
 * to come back. An unapproved mailbox is disabled with the approval code without being contacted.
 */
export async function runScheduledIncoming(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization' | 'sync'>, deps: CycleDeps, signal?: AbortSignal,
): Promise<RunResult & { outcome?: CycleOutcome; retry?: boolean }> {
  const { store, clock, logger } = deps;
  const state = store.getDirectionState(mailbox.id, 'incoming');
  const decision = gate({
    disabled: state?.disabled ?? false,
    nextAttemptAt: state?.nextAttemptAt ?? null,
    approvalBlock: approvalBlockFor(store, mailbox, profile, config.organization),
  }, clock.now());

  if (decision.action === 'wait') return { nextDueAt: decision.until };
  if (decision.action === 'block') {
    const at = clock.now();
    const entry = taxonomyEntry(decision.code);
    const runId = store.startRun(mailbox.id, 'incoming', at);
    const message = entry.summary;
    // The mailbox now waits for someone's decision: "pending approval", in the product's words.
    if (store.lifecycle.get(mailbox.id).approval === 'empty') store.lifecycle.setApproval(mailbox.id, 'pending', 'system', 'system', at);
    store.finishRun(runId, {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: decision.code, errorMessage: message,
      failure: { class: 'permanent', scope: 'mailbox', disable: true, nextAttemptAt: null, profileId: profile.id },
    });
    logger.warn({ mailbox: mailbox.id, direction: 'incoming', code: decision.code }, 'mailbox not approved: disabled without contacting the server');
    const outcome: CycleOutcome = {
      mailbox: mailbox.id, direction: 'incoming', result: 'failure', durationSeconds: 0, code: decision.code,
      class: 'permanent', scope: 'mailbox', message, disabled: true, nextAttemptAt: null, consecutiveFailures: 1,
    };
    return { nextDueAt: null, outcome };
  }

  // A run after a failed one is an attempt of the retry policy.
  const retry = (state?.consecutiveFailures ?? 0) > 0;
  const outcome = await runIncomingCycle(mailbox, profile, config, deps, signal);
  if (outcome.result !== 'failure') return { outcome, retry };
  if (outcome.disabled) {
    // A disabled mailbox keeps no connection open on the server.
    deps.sessions.discard(mailbox.id);
    return { nextDueAt: null, outcome, retry };
  }
  return { nextDueAt: outcome.nextAttemptAt, outcome, retry };
}
