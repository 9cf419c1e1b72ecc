import type { Health, TestState } from '@mailsync/contract';

/** The product's summary buckets (docs/metrics.md): one per mailbox, shared with the panel and dashboards. */
export { HEALTH_BUCKETS, type Health } from '@mailsync/contract';

export interface HealthDirection {
  /** Configured for this direction in the config. */
  configured: boolean;
  status: 'not_run' | 'success' | 'failure';
  disabled: boolean;
  /** Set when the system disabled it (a taxonomy code); null when an operator did. */
  disabledCode: string | null;
  consecutiveFailures: number;
  lastFailureAt: number | null;
}

export interface HealthInput {
  testState: TestState;
  directions: HealthDirection[];
}

/**
 * The bucket of one mailbox, in the order the product's summary reads:
 * - testing: Test & Enable scheduled or running;
 * - failing: a configured direction is disabled by the system (continuous errors, needs a person);
 * - inactive: nothing configured is enabled and running yet (operator-disabled, or never run);
 * - intermittent: still running, but failed transiently within the window;
 * - healthy: everything configured is enabled and the last runs succeeded.
 */
export function healthOf(input: HealthInput, now: number, windowMs: number): Health {
  if (input.testState === 'scheduled' || input.testState === 'running') return 'testing';
  const configured = input.directions.filter((d) => d.configured);
  if (configured.some((d) => d.disabled && d.disabledCode !== null)) return 'failing';
  const active = configured.filter((d) => !d.disabled);
  if (active.length === 0 || active.every((d) => d.status === 'not_run')) return 'inactive';
  const recentFailure = active.some((d) => d.consecutiveFailures > 0 || (d.lastFailureAt !== null && now - d.lastFailureAt < windowMs));
  return recentFailure ? 'intermittent' : 'healthy';
}

/** Test & Enable scheduled or running for longer than `longMs` ("of them taking over a long time"). */
export function isLongTestEnable(test: { state: TestState; requestedAt: number | null }, now: number, longMs: number): boolean {
  return (test.state === 'scheduled' || test.state === 'running') && test.requestedAt !== null && now - test.requestedAt > longMs;
}
