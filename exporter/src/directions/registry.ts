import { createAct } from '../act/index.js';
import { createIncoming } from '../incoming/index.js';
import { createOutgoing } from '../outgoing/index.js';
import type { Direction } from '../store/index.js';
import type { DirectionDeps, DirectionRunner } from './contract.js';

/**
 * Every direction this runner knows, by name: the one list the service schedules, Test & Enable
 * checks and the CLI runs. A direction configured on a mailbox but missing here is reported by
 * Test & Enable as untested.
 */
export function createDirections(deps: DirectionDeps, profileLimit: (profileId: string) => number): Map<Direction, DirectionRunner> {
  return new Map<Direction, DirectionRunner>([
    ['incoming', createIncoming(deps, profileLimit)],
    ['outgoing', createOutgoing(deps)],
    ['act', createAct(deps)],
  ]);
}
