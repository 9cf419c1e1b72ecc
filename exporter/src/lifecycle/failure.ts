import type { ErrorClass, ErrorCode, Scope } from '../classify/index.js';
import type { AlertTarget } from '../policy/failure.js';
import type { Direction, StoreTx } from '../store/index.js';

export interface FailureRecord {
  mailboxId: string;
  direction: Direction;
  code: ErrorCode;
  class: ErrorClass;
  scope: Scope;
  message: string;
  at: number;
  /** Where policy says the failure is recorded (policy/failure.ts alertTargets). */
  alerts: AlertTarget[];
  /** Set when policy disables the direction: who did it, for the mailbox's history. */
  disableBy: string | null;
}

/**
 * Carries out what policy decided about a failure: one alert record per target and, when asked,
 * the disable. Called inside the caller's transaction, with the run or Test & Enable result it
 * belongs to, so the wall, the disable and the result are never out of step.
 */
export async function recordFailure(tx: StoreTx, f: FailureRecord): Promise<void> {
  const record = { direction: f.direction, code: f.code, class: f.class, scope: f.scope, mailboxId: f.mailboxId, message: f.message, at: f.at };
  for (const target of f.alerts) await tx.lifecycle.recordAlert({ ...record, ...target });
  if (f.disableBy !== null) await tx.lifecycle.disable(f.mailboxId, f.direction, { code: f.code, reason: f.message, by: f.disableBy, at: f.at });
}
