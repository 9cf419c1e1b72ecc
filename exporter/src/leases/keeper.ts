import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Timers } from '../scheduler/scheduler.js';
import type { Direction, Fence, Lease, LeaseKey, LeaseStore } from '../store/index.js';
import { leaseKey, planLeases, roundIntervalMs, validUntil } from './decide.js';

export interface LeaseChange {
  gained: Lease[];
  lost: LeaseKey[];
}

export interface KeeperEvents {
  /** Held leases whose renewal failed: the store did not answer, or it no longer had them. */
  renewalsFailed?(count: number): void;
  /** A lease was taken over from another runner (or from this one before a pause): its open runs are stale. */
  takenOver?(lease: Lease): Promise<void>;
  /** Resolves once the cycles of these mailbox directions have ended (they were told to stop): shed leases are released then. */
  settled?(keys: LeaseKey[]): Promise<void>;
  /** After every round, whatever it did: work the store queued for held mailboxes is looked for then (Test & Enable). */
  roundDone?(): void;
}

export interface KeeperDeps {
  store: LeaseStore;
  runner: string;
  ttlMs: number;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** The mailbox directions the current config asks for (read at every round: reloads change it). */
  wanted: () => LeaseKey[];
  /** True while the direction's cycle runs (shed last). */
  busy?: (key: LeaseKey) => boolean;
  events?: KeeperEvents;
}

interface Held {
  lease: Lease;
  validUntil: number;
}

/**
 * B: keeps this runner's leases: every ttl/3 it heartbeats, renews what it holds, drops what it
 * could not renew in time, sheds what is beyond its fair share and claims up to it. It tells its
 * listeners (the schedulers, Test & Enable) what it gained and lost. Renewal runs on its own timer,
 * not with cycles, so an idle mailbox's kept IMAP session stays with its holder. A lease is
 * dropped locally once its TTL has passed since the last successful request even if the store does
 * not answer at all (a hung database): by then another runner may hold it.
 */
export class LeaseKeeper {
  readonly #d: KeeperDeps;
  readonly #held = new Map<string, Held>();
  readonly #listeners: ((change: LeaseChange) => void)[] = [];
  #round: Promise<void> | undefined;
  /** F: another runner joined or released leases while a round ran: one more round after it. */
  #again = false;
  #timer: unknown;
  #stopped = false;
  #live = 1;
  #storeUnreachable = false;

  /**
   * G: whether the last round's heartbeat or renewal failed: the store does not answer, so this
   * runner can neither keep nor take work (the readiness endpoint says so).
   */
  get storeUnreachable(): boolean {
    return this.#storeUnreachable;
  }

  constructor(deps: KeeperDeps) {
    this.#d = deps;
  }

  onChange(listener: (change: LeaseChange) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * The first round (so the schedulers start with the leases this runner can get), then every
   * ttl/3, and (F) a round whenever another runner says it joined or released leases: without it
   * a runner up first held every lease for a third of the period before the others got theirs.
   */
  async start(): Promise<void> {
    this.#d.store.onRebalance?.((from) => {
      if (from !== this.#d.runner) this.#roundSoon();
    });
    await this.refresh();
    this.#arm();
  }

  /** A round now (after a reload changed the mailboxes); joins the round in progress if there is one. */
  refresh(): Promise<void> {
    this.#round ??= this.#roundOnce().finally(() => {
      this.#round = undefined;
      if (this.#again) this.#roundSoon();
    });
    return this.#round;
  }

  /** A round now, or right after the one in progress (which may have read the shares before the change). */
  #roundSoon(): void {
    if (this.#stopped) return;
    if (this.#round) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.refresh().catch(() => undefined);
  }

  holds(mailboxId: string, direction: Direction): boolean {
    return this.#held.has(leaseKey({ mailboxId, direction }));
  }

  /** What a turn of this mailbox direction runs under (store/fence.ts), while held. */
  fence(mailboxId: string, direction: Direction): Fence | undefined {
    const held = this.#held.get(leaseKey({ mailboxId, direction }));
    return held && { mailboxId, direction, runner: this.#d.runner, token: held.lease.token };
  }

  held(direction?: Direction): LeaseKey[] {
    const all = [...this.#held.values()].map((h) => ({ mailboxId: h.lease.mailboxId, direction: h.lease.direction }));
    return direction === undefined ? all : all.filter((k) => k.direction === direction);
  }

  /** Runners alive at the last heartbeat, this one included. */
  get liveRunners(): number {
    return this.#live;
  }

  /** Stops renewing and gives every lease up, so other runners take them at once instead of after the TTL. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.timers.clearTimeout(this.#timer);
    // Not waiting for a round in progress: against a hung database it never ends. Its answers
    // are ignored from here on (nothing is claimed after a stop, renewals touch no dropped lease).
    const leases = [...this.#held.values()].map((h) => h.lease);
    this.#held.clear();
    const { store, runner, logger } = this.#d;
    if (leases.length > 0) {
      await store.release(runner, leases).catch((error: unknown) => {
        logger.warn({ err: error, leases: leases.length }, 'could not release the leases at stop: other runners take them once they expire');
      });
    }
    // F: the others' shares grow now, not once this runner's heartbeat has aged out.
    await store.leave?.(runner).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not remove this runner\'s heartbeat at stop: the others count it until it ages out');
    });
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#d.timers.setTimeout(() => {
      // Expiry first and on its own: a round that hangs on the store must not keep a lease alive.
      this.#notify({ gained: [], lost: this.#expire() });
      if (!this.#round) this.refresh().catch(() => undefined);
      this.#arm();
    }, roundIntervalMs(this.#d.ttlMs));
  }

  async #roundOnce(): Promise<void> {
    if (this.#stopped) return;
    const { store, runner, ttlMs, logger } = this.#d;
    const sentAt = this.#d.clock.now();
    const lost: LeaseKey[] = [];
    try {
      this.#live = await store.heartbeat(runner, ttlMs);
      lost.push(...(await this.#renew(sentAt)));
      this.#storeUnreachable = false;
    } catch (error) {
      this.#storeUnreachable = true;
      this.#d.events?.renewalsFailed?.(this.#held.size);
      logger.warn({ err: error, held: this.#held.size }, 'lease renewal failed: the leases are kept until they expire');
    }
    lost.push(...this.#expire());
    let gained: Lease[] = [];
    if (!this.#stopped) {
      try {
        gained = await this.#rebalance(sentAt);
      } catch (error) {
        logger.warn({ err: error }, 'could not claim or shed leases: trying again next round');
      }
    }
    this.#notify({ gained, lost });
    this.#d.events?.roundDone?.();
  }

  /** Renews every held lease; returns those the store no longer had. */
  async #renew(sentAt: number): Promise<LeaseKey[]> {
    const leases = [...this.#held.values()].map((h) => h.lease);
    if (leases.length === 0) return [];
    const kept = new Set((await this.#d.store.renew(this.#d.runner, leases, this.#d.ttlMs)).map(leaseKey));
    const lost: LeaseKey[] = [];
    for (const l of leases) {
      const held = this.#held.get(leaseKey(l));
      if (!held) continue;
      if (kept.has(leaseKey(l))) held.validUntil = validUntil(sentAt, this.#d.ttlMs);
      else {
        this.#held.delete(leaseKey(l));
        lost.push(keyOf(l));
      }
    }
    if (lost.length > 0) {
      this.#d.events?.renewalsFailed?.(lost.length);
      this.#d.logger.warn({ leases: lost.length }, 'leases lost: another runner holds them now');
    }
    return lost;
  }

  /** Drops leases whose TTL passed without a successful renewal. */
  #expire(): LeaseKey[] {
    const now = this.#d.clock.now();
    const lost: LeaseKey[] = [];
    for (const [key, held] of this.#held) {
      if (held.validUntil > now) continue;
      this.#held.delete(key);
      lost.push(keyOf(held.lease));
    }
    if (lost.length > 0) this.#d.logger.warn({ leases: lost.length }, 'leases expired without a renewal: their cycles stop, another runner takes them');
    return lost;
  }

  /** Sheds beyond the fair share (or no longer configured), then claims up to it. */
  async #rebalance(sentAt: number): Promise<Lease[]> {
    const { store, runner, ttlMs } = this.#d;
    const plan = planLeases({ wanted: this.#d.wanted(), held: this.held(), liveRunners: this.#live, busy: this.#d.busy ?? (() => false) });
    if (plan.shed.length > 0) this.#shed(plan.shed);
    const gained: Lease[] = [];
    for (const { candidates, limit } of plan.claim) {
      const won = await store.claim(runner, candidates, limit, ttlMs);
      // Stopped while the claim was under way: what it won goes straight back.
      if (this.#stopped) {
        await store.release(runner, won);
        continue;
      }
      for (const lease of won) {
        this.#held.set(leaseKey(lease), { lease, validUntil: validUntil(sentAt, ttlMs) });
        gained.push(lease);
        if (lease.previousRunner) await this.#takenOver(lease);
      }
    }
    return gained;
  }

  /**
   * Gives leases up: their cycles are told to stop now, and each lease is released once its cycle
   * has ended (`events.settled`), so the aborted run is closed by this runner while the lease is
   * still its own. In the background: a slow safe point must not hold up the renewals.
   */
  #shed(keys: LeaseKey[]): void {
    for (const k of keys) this.#held.delete(leaseKey(k));
    this.#notify({ gained: [], lost: keys });
    Promise.resolve(this.#d.events?.settled?.(keys))
      .then(() => this.#d.store.release(this.#d.runner, keys))
      .catch((error: unknown) => this.#d.logger.warn({ err: error, leases: keys.length }, 'could not release shed leases: other runners take them once they expire'));
  }

  async #takenOver(lease: Lease): Promise<void> {
    try {
      await this.#d.events?.takenOver?.(lease);
    } catch (error) {
      // The lease is held all the same; a stale open run only shows as running until the next restart.
      this.#d.logger.warn({ err: error, mailbox: lease.mailboxId, direction: lease.direction }, 'could not close the previous holder\'s open run');
    }
  }

  #notify(change: LeaseChange): void {
    if (change.gained.length === 0 && change.lost.length === 0) return;
    for (const listen of this.#listeners) listen(change);
  }
}

const keyOf = (l: LeaseKey): LeaseKey => ({ mailboxId: l.mailboxId, direction: l.direction });
