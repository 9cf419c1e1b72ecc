import type { Classification } from '../classify/index.js';
import { decideOnFailure, type FailureDecision, type RetrySettings } from './retry.js';

/** Where a failure is recorded on the alert wall. */
export interface AlertTarget {
  objectType: 'mailbox' | 'profile';
  objectId: string;
}

/**
 * A failure is recorded against the mailbox; one of the server's (its scope is `server`: TLS, the
 * profile's credentials, the location) is also recorded against the profile, because every
 * mailbox of that profile will meet it and the profile's owner is the one to tell.
 */
export function alertTargets(scope: Classification['scope'], mailboxId: string, profileId: string): AlertTarget[] {
  const targets: AlertTarget[] = [{ objectType: 'mailbox', objectId: mailboxId }];
  if (scope === 'server') targets.push({ objectType: 'profile', objectId: profileId });
  return targets;
}

export interface FailureEffects {
  decision: FailureDecision;
  /** Disable the direction now with the failure's code (permanent, or the retry budget is used up). */
  disable: boolean;
  /** When the next attempt may run (a transient failure with retries left), else null. */
  nextAttemptAt: number | null;
  alerts: AlertTarget[];
}

/** Everything a classified mailbox-level failure of a sync run does, decided in one place. */
export function failureEffects(
  c: Pick<Classification, 'code' | 'class' | 'scope' | 'retryAfterMs'>,
  consecutiveBefore: number,
  settings: RetrySettings,
  now: number,
  ids: { mailboxId: string; profileId: string },
): FailureEffects {
  const decision = decideOnFailure(consecutiveBefore, c, settings, now);
  return {
    decision,
    disable: decision.action === 'disable',
    nextAttemptAt: decision.action === 'retry' ? decision.nextAttemptAt : null,
    alerts: alertTargets(c.scope, ids.mailboxId, ids.profileId),
  };
}
