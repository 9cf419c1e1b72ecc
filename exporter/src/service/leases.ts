import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { LeaseKeeper } from '../leases/keeper.js';
import { leadDirection, runnerId, unleased, wantedLeases } from '../leases/wanted.js';
import type { LeaseMetricsDeps } from '../metrics/leases.js';
import { systemTimers, type Timers } from '../scheduler/scheduler.js';
import type { Fence, LeaseKey, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import type { CurrentConfig } from './current.js';

export interface ServiceLeasesDeps {
  store: Store;
  initial: Config;
  current: CurrentConfig;
  clock: Clock;
  timers?: Timers | undefined;
  logger: Logger;
  /** Read lazily: the schedulers and metrics are built after the keeper. */
  busy: (key: LeaseKey) => boolean;
  /** Resolves when the cycles of these mailbox directions have ended. */
  settled: (keys: LeaseKey[]) => Promise<void>;
  renewalsFailed: (count: number) => void;
  /** Test & Enable requests of held mailboxes: pushed to this runner's queue. */
  testRequested: (mailboxId: string) => void;
}

/**
 * B: the runner's lease keeper, wired to the store and the config: it wants every configured
 * mailbox direction, closes the open runs of a direction it takes over, and after every round
 * looks for Test & Enable requests (made on any runner) of the mailboxes it leads.
 */
export function createServiceLeases(d: ServiceLeasesDeps) {
  const runner = runnerId(d.initial);
  const keeper = new LeaseKeeper({
    store: d.store.leases, runner, ttlMs: d.initial.leases.seconds * 1_000, clock: d.clock, timers: d.timers ?? systemTimers, logger: d.logger,
    wanted: () => wantedLeases(d.current.config),
    busy: d.busy,
    events: {
      renewalsFailed: d.renewalsFailed,
      settled: d.settled,
      takenOver: async (lease) => {
        const closed = await d.store.runs.abortOpenRunsOf(lease.mailboxId, lease.direction, d.clock.now());
        if (closed > 0) d.logger.info({ mailbox: lease.mailboxId, direction: lease.direction, from: lease.previousRunner, runs: closed }, 'lease taken over: closed the previous holder\'s open run as aborted');
      },
      roundDone: () => {
        if (ready) pushHeldTests().catch((error: unknown) => d.logger.warn({ err: error }, 'could not read the Test & Enable requests'));
      },
    },
  });

  /** The fence Test & Enable of a mailbox runs under: its lead direction's, when this runner holds it. */
  const leadFence = (mailboxId: string): Fence | undefined => {
    const found = d.current.find(mailboxId);
    return found && keeper.fence(mailboxId, leadDirection(found.mailbox));
  };

  // Off until the service has started (its Test & Enable queue exists), then after every round.
  let ready = false;
  async function pushHeldTests(): Promise<void> {
    ready = true;
    for (const id of await d.store.lifecycle.pendingTests()) if (leadFence(id)) d.testRequested(id);
  }

  const metrics: LeaseMetricsDeps = {
    runner,
    held: (direction) => keeper.held(direction).length,
    holds: (id, direction) => keeper.holds(id, direction),
    unleased: async () => unleased(wantedLeases(d.current.config), await d.store.leases.list()),
  };
  return { runner, keeper, leadFence, pushHeldTests, metrics };
}
