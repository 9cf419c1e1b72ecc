import type { Direction } from './types.js';

/** B: one mailbox direction, the unit a lease is held for (each direction has its own scheduler). */
export interface LeaseKey {
  mailboxId: string;
  direction: Direction;
}

/** A lease this runner won or kept: its fencing token and when the database lets it expire. */
export interface Lease extends LeaseKey {
  /** Grows with every new holder: the writes of an older holder carry a smaller one and are refused. */
  token: number;
  /** Epoch ms by the DATABASE's clock (informative: the keeper counts from its own request times). */
  expiresAt: number;
  /** The runner that held it before this claim, when it was taken over from one (its open run is closed). */
  previousRunner?: string | null;
}

/** A lease row as the status page and the unleased gauge see it. */
export interface LeaseRow extends LeaseKey {
  runner: string | null;
  token: number;
  expiresAt: number;
  /** Held and not expired, by the database's clock (a runner's clock may differ from it). */
  live: boolean;
}

/**
 * B: who runs which mailbox direction when several runners share one store. Expiry is decided by
 * the store's clock, so runners whose clocks differ still agree on who holds what.
 */
export interface LeaseStore {
  /** Registers or refreshes this runner (its heartbeat) and returns how many runners are alive, itself included. */
  heartbeat(runner: string, ttlMs: number): Promise<number>;
  /** Claims up to `limit` of `wanted` that nobody holds or whose lease expired; returns the leases won (token bumped). */
  claim(runner: string, wanted: readonly LeaseKey[], limit: number, ttlMs: number): Promise<Lease[]>;
  /** Extends the leases still held and not expired; returns those (a lease missing from the answer was lost). */
  renew(runner: string, leases: readonly Lease[], ttlMs: number): Promise<Lease[]>;
  /** Gives leases up (graceful stop, over the fair share, no longer configured): free at once for another runner. */
  release(runner: string, leases: readonly LeaseKey[]): Promise<void>;
  /** Every lease row, for the unleased gauge and the status page. */
  list(): Promise<LeaseRow[]>;
  /**
   * F: calls `listener` with a runner's id when that runner joined or released leases (so a
   * round now finds a changed share or free leases). Only where other runners can exist
   * (PostgreSQL); without it rounds keep to their timer.
   */
  onRebalance?(listener: (from: string) => void): void;
  /**
   * F: forgets this runner's heartbeat at a graceful stop (after its leases are released), so the
   * others' shares grow at once instead of once the heartbeat has aged out; they are told as by
   * `onRebalance`.
   */
  leave?(runner: string): Promise<void>;
}
