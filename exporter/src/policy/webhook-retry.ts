/**
 * When a webhook delivery that failed is tried again: exponential backoff from
 * `retryInitialSeconds`, doubling per attempt up to `retryMaxSeconds`, with ±20 % jitter so that a
 * receiver coming back is not hit by every waiting delivery in the same second. After
 * `maxAttempts` attempts the delivery is dead-lettered: it stays in the outbox, visible in the API
 * and replayable by an operator, and nothing retries it any more.
 */
export interface RetryBudget {
  maxAttempts: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
}

export type NextDelivery = 'dead' | { retryAt: number };

/** `attempts` counts the attempt that just failed; `random` is in [0, 1). */
export function nextDeliveryAttempt(budget: RetryBudget, attempts: number, at: number, random: number): NextDelivery {
  if (attempts >= budget.maxAttempts) return 'dead';
  const base = Math.min(budget.retryMaxSeconds, budget.retryInitialSeconds * 2 ** (attempts - 1));
  const jittered = base * (0.8 + 0.4 * random);
  return { retryAt: at + Math.round(jittered * 1_000) };
}

/** The whole budget at the midpoint of the jitter: what docs/configuration.md quotes. */
export function retryWindowSeconds(budget: RetryBudget): number {
  let total = 0;
  for (let n = 1; n < budget.maxAttempts; n++) total += Math.min(budget.retryMaxSeconds, budget.retryInitialSeconds * 2 ** (n - 1));
  return total;
}
