import type { DirectionDeps } from '../directions/contract.js';
import type { createDirections } from '../directions/registry.js';
import type { Logger } from '../log.js';
import { fenceContext, type Fence } from '../store/index.js';
import { reportTestFault, type TestFaultCounts } from '../test-enable/faults.js';
import { TestQueue } from '../test-enable/queue.js';
import { runTestEnable } from '../test-enable/run.js';
import type { CurrentConfig } from './current.js';
import type { DirectionSchedulers } from './schedulers.js';

/** Test & Enable runs at most this many mailboxes at once: it is interactive, not bulk work. */
const TEST_ENABLE_CONCURRENCY = 4;

type Directions = ReturnType<typeof createDirections>;

interface TestParts {
  current: CurrentConfig;
  directions: Directions;
  directionDeps: DirectionDeps;
  schedulers: DirectionSchedulers;
  logger: Logger;
  leadFence: (mailboxId: string) => Fence | undefined;
  counts: TestFaultCounts;
}

/** Test & Enable, a few mailboxes at a time; each runs on the runner leading the mailbox, under that lease's fence. */
export function createTests({ current, directions, directionDeps, schedulers, logger, leadFence, counts }: TestParts): TestQueue {
  return new TestQueue(async (id, signal) => {
    const found = current.find(id);
    // B: another runner leads this mailbox: its keeper finds the request in the store and runs it.
    const fence = leadFence(id);
    if (!found || !fence) return;
    try {
      await fenceContext.run(fence, () => runTestEnable(found.mailbox, found.profile, current.config, directions, directionDeps, signal));
    } catch (error) {
      reportTestFault(error, id, logger, counts);
    }
    // Whatever the result, the schedulers look again now: enabled directions start syncing.
    for (const d of directions.values()) d.release(id);
    schedulers.wake(id);
  }, TEST_ENABLE_CONCURRENCY);
}
