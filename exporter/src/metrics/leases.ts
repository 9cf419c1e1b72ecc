import { DIRECTIONS } from '@mailsync/contract';
import type { Registry } from 'prom-client';
import type { Direction } from '../store/index.js';
import { counter, gauge } from './prom.js';

/** B: what the lease families read: the keeper's held leases and the store's lease rows. */
export interface LeaseMetricsDeps {
  /** This runner's id: the `runner` label of mailsync_runner_info. */
  runner: string;
  /** Leases this runner holds now, per direction. */
  held: (direction: Direction) => number;
  /** Whether this runner holds the mailbox direction: its per-mailbox series are written only then. */
  holds: (mailboxId: string, direction: Direction) => boolean;
  /** Per direction, configured mailbox directions no runner holds a live lease on (read from the store at scrape). */
  unleased: () => Promise<Map<Direction, number>>;
}

/**
 * B: the lease families. The unleased count is read from the store once per scrape, like the
 * per-profile aggregates; every runner reports the same fleet-wide value (alert on max()).
 */
export function registerLeaseMetrics(registry: Registry, deps: LeaseMetricsDeps) {
  gauge(registry, 'mailsync_runner_info').set({ runner: deps.runner }, 1);
  gauge(registry, 'mailsync_leases_held', function () {
    for (const direction of DIRECTIONS) this.set({ direction }, deps.held(direction));
  });
  let unleased: Map<Direction, number> | undefined;
  gauge(registry, 'mailsync_mailboxes_unleased', function () {
    this.reset();
    // Missing when the store could not be read: an absent series, not a false zero.
    for (const [direction, n] of unleased ?? []) this.set({ direction }, n);
  });
  const renewalsFailed = counter(registry, 'mailsync_lease_renewals_failed_total');
  const refusals = counter(registry, 'mailsync_lease_fencing_refusals_total');
  for (const direction of DIRECTIONS) refusals.inc({ direction }, 0);
  return {
    renewalsFailed: (n: number) => renewalsFailed.inc(n),
    fenced: (direction: Direction) => refusals.inc({ direction }),
    /** Reads the store's lease rows for this scrape; throws (the scrape counts a store error) when it cannot. */
    async read(): Promise<void> {
      unleased = undefined;
      unleased = await deps.unleased();
    },
  };
}

export type LeaseMetrics = ReturnType<typeof registerLeaseMetrics>;
