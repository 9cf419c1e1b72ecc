import type { Direction, TestState } from '@mailsync/contract';
import type { ErrorCode } from '../classify/index.js';

export type { TestState } from '@mailsync/contract';

/** A request is refused while one is queued or running: two at once would race on the same mailbox. */
export function mayRequestTest(state: TestState): { ok: true } | { ok: false; reason: string } {
  if (state === 'scheduled' || state === 'running') return { ok: false, reason: `Test & Enable is already ${state} for this mailbox` };
  return { ok: true };
}

export type DirectionCheck =
  | { direction: Direction; ok: true; steps: string[]; latencyMs?: number }
  | { direction: Direction; ok: false; steps: string[]; code: ErrorCode; class: 'permanent' | 'transient'; scope: 'server' | 'mailbox'; message: string };

export type DirectionChange =
  | { direction: Direction; action: 'enable' }
  | { direction: Direction; action: 'disable'; code: ErrorCode; message: string };

/**
 * Test & Enable's result: each tested direction that passed is enabled (its failure count reset);
 * each that failed is disabled with the failure's code, whatever its class, because a person is
 * watching and a retry loop would only hide the answer.
 */
export function testChanges(checks: DirectionCheck[]): DirectionChange[] {
  return checks.flatMap((c): DirectionChange[] => {
    if (c.ok) return [{ direction: c.direction, action: 'enable' }];
    // B: an error mailsync does not recognise says nothing about the mailbox. Disabling with it
    // would replace the mailbox's real reason (say credentials_rejected, still its last error)
    // with internal_error: the direction stays as it was, and the result shows the failed check.
    if (c.code === 'internal_error') return [];
    return [{ direction: c.direction, action: 'disable', code: c.code, message: c.message }];
  });
}
