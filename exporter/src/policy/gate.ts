import type { ErrorCode } from '../classify/index.js';

export interface GateInput {
  /** The direction is disabled (by the system or an operator). */
  disabled: boolean;
  /** No attempt before this time (after a transient failure). */
  nextAttemptAt: number | null;
  /** Why the mailbox may not be contacted at all (approval), or null. */
  approvalBlock: ErrorCode | null;
}

export type GateDecision =
  | { action: 'run' }
  /** Not now: wait until `until`, or until woken (null) for a disabled direction. */
  | { action: 'wait'; until: number | null }
  /** Disable without contacting the server: the mailbox is not approved. */
  | { action: 'block'; code: ErrorCode };

/** Whether a scheduled cycle may contact the server now. Disabled directions are never attempted. */
export function gate(input: GateInput, now: number): GateDecision {
  if (input.disabled) return { action: 'wait', until: null };
  if (input.approvalBlock) return { action: 'block', code: input.approvalBlock };
  if (input.nextAttemptAt !== null && input.nextAttemptAt > now) return { action: 'wait', until: input.nextAttemptAt };
  return { action: 'run' };
}
