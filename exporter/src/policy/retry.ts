import type { ErrorClass, ErrorCode } from '../classify/index.js';

export interface RetrySettings {
  /** Transient failures retried before the direction is disabled (the product: 10). */
  maxTransientRetries: number;
  /** Wait before the next attempt after a transient failure (the product: 5 minutes). */
  intervalMs: number;
  /** Upper bound on a server's suggested backoff, so a bogus hint cannot park a mailbox for days. */
  maxBackoffMs: number;
}

export type FailureDecision =
  | { action: 'disable'; code: ErrorCode; consecutiveFailures: number }
  | { action: 'retry'; code: ErrorCode; consecutiveFailures: number; nextAttemptAt: number; retriesLeft: number };

/**
 * What a mailbox-level failure does to its direction. Permanent: disabled now. Transient: counted;
 * the next attempt waits the retry interval (or the server's hint, capped); the failure after the
 * last retry (the 11th in a row with 10 retries) disables with the same code. `consecutiveBefore`
 * is the count of failures in a row before this one; a success resets it to 0.
 */
export function decideOnFailure(
  consecutiveBefore: number,
  failure: { code: ErrorCode; class: ErrorClass; retryAfterMs: number | null },
  settings: RetrySettings,
  now: number,
): FailureDecision {
  const consecutiveFailures = consecutiveBefore + 1;
  if (failure.class === 'permanent') return { action: 'disable', code: failure.code, consecutiveFailures };
  const retriesUsed = consecutiveFailures - 1;
  if (retriesUsed >= settings.maxTransientRetries) return { action: 'disable', code: failure.code, consecutiveFailures };
  const wait = failure.retryAfterMs !== null && failure.retryAfterMs > 0
    ? Math.min(failure.retryAfterMs, settings.maxBackoffMs)
    : settings.intervalMs;
  return {
    action: 'retry',
    code: failure.code,
    consecutiveFailures,
    nextAttemptAt: now + wait,
    retriesLeft: retriesLeft(consecutiveFailures, settings.maxTransientRetries),
  };
}

/** Retries of the budget still unused after `consecutiveFailures` failures in a row (the first failure is not a retry). */
export function retriesLeft(consecutiveFailures: number, maxTransientRetries: number): number {
  return Math.max(0, maxTransientRetries - Math.max(0, consecutiveFailures - 1));
}

/** A run that starts while the direction's last run failed is an attempt of the retry policy. */
export function isRetryAttempt(consecutiveFailures: number): boolean {
  return consecutiveFailures > 0;
}

/** The organization's retry settings in the units the policy works in. */
export function retrySettings(retry: { maxTransientRetries: number; intervalSeconds: number; maxBackoffSeconds: number }): RetrySettings {
  return {
    maxTransientRetries: retry.maxTransientRetries,
    intervalMs: retry.intervalSeconds * 1_000,
    maxBackoffMs: retry.maxBackoffSeconds * 1_000,
  };
}
