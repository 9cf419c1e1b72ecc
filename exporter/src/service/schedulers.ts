import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { DirectionRunner } from '../directions/contract.js';
import type { CycleOutcome } from '../directions/run.js';
import type { Turn } from '../directions/turn.js';
import type { LeaseChange } from '../leases/keeper.js';
import type { Logger } from '../log.js';
import { Scheduler, systemTimers, type Job, type Timers } from '../scheduler/scheduler.js';
import { fenceContext, FencedError, StoreUnavailableError, type Direction, type Fence, type LeaseKey } from '../store/index.js';
import type { CurrentConfig } from './current.js';

export type OutcomeListener = (outcome: CycleOutcome, profileId: string, retry: boolean) => void;

/** B: what the schedulers ask of the lease keeper (leases/keeper.ts). */
export interface HeldLeases {
  holds(mailboxId: string, direction: Direction): boolean;
  fence(mailboxId: string, direction: Direction): Fence | undefined;
}

export interface SchedulersDeps {
  current: CurrentConfig;
  clock: Clock;
  timers?: Timers | undefined;
  logger: Logger;
  /** True while the process is too slow to take more work. */
  overloaded: () => boolean;
  /** B: only mailbox directions this runner holds a lease on get a job. */
  leases: HeldLeases;
  /** B: a turn's write was refused because another runner took the lease over. */
  onFenced?: (fence: Fence) => void;
}

/**
 * One scheduler per direction, sharing the global limits from the config at start; each runs its
 * direction's turn for a mailbox this runner holds the lease of, under that lease's fence, and
 * tells the listeners what happened.
 */
export class DirectionSchedulers {
  readonly #schedulers: { runner: DirectionRunner; scheduler: Scheduler }[] = [];
  readonly #listeners: OutcomeListener[] = [];
  readonly #current: CurrentConfig;
  readonly #leases: HeldLeases;

  constructor(entries: { runner: DirectionRunner; turn: Turn }[], deps: SchedulersDeps) {
    this.#current = deps.current;
    this.#leases = deps.leases;
    const initial = deps.current.config;
    for (const { runner, turn } of entries) {
      const scheduler = new Scheduler({
        clock: deps.clock,
        timers: deps.timers ?? systemTimers,
        random: Math.random,
        maxConcurrent: initial.sync.maxConcurrentCycles,
        groupLimit: (p) => {
          const profile = this.#current.profile(p);
          return profile ? runner.groupLimit(profile) : 1;
        },
        jitterRatio: initial.sync.jitterRatio,
        overloaded: deps.overloaded,
        run: async (id, signal) => {
          const found = this.#current.find(id);
          const fence = this.#leases.fence(id, runner.name);
          // Lost between the due time and now: the job goes with the next setJobs.
          if (!found || !fence) return undefined;
          try {
            const { outcome, retry, ...next } = await fenceContext.run(fence, () => turn(found.mailbox, found.profile, signal));
            if (outcome) for (const listen of this.#listeners) listen(outcome, found.profile.id, retry ?? false);
            return next;
          } catch (error) {
            // G: the store did not answer before the cycle began (the direction's state is read
            // first): the store's fault, reported by its own metrics and readiness, not a crash.
            if (error instanceof StoreUnavailableError) {
              deps.logger.warn({ mailbox: id, direction: runner.name, err: error }, `${runner.name} cycle not started: the store does not answer`);
              return undefined;
            }
            if (!(error instanceof FencedError)) throw error;
            // Not the mailbox's failure: the new holder runs the cycle again from the store's state.
            deps.logger.warn({ mailbox: id, direction: runner.name, token: error.fence.token }, `${runner.name} cycle stopped: ${error.message}`);
            deps.onFenced?.(error.fence);
            return undefined;
          }
        },
        onError: (id, error) => deps.logger.error({ mailbox: id, err: error }, `${runner.name} cycle crashed`),
      });
      this.#schedulers.push({ runner, scheduler });
    }
  }

  onOutcome(listener: OutcomeListener): void {
    this.#listeners.push(listener);
  }

  /** The held mailboxes configured for each direction become that scheduler's jobs (start, reload, lease changes). */
  setJobs(config: Config): void {
    for (const { runner, scheduler } of this.#schedulers) {
      const jobs: Job[] = [];
      for (const m of config.mailboxes) {
        const profile = this.#current.profile(m.profile);
        if (!m[runner.name] || !profile || !this.#leases.holds(m.id, runner.name)) continue;
        jobs.push({ id: m.id, group: m.profile, intervalMs: runner.intervalMs(config, profile) });
      }
      scheduler.setJobs(jobs);
    }
  }

  /**
   * B: a lost lease's running cycle is told to stop (its writes would be refused anyway) and its
   * kept connections close (another runner's session takes over the mailbox); gains get jobs.
   */
  leasesChanged(change: LeaseChange): void {
    for (const k of change.lost) {
      const entry = this.#schedulers.find((s) => s.runner.name === k.direction);
      entry?.scheduler.abort(k.mailboxId);
      entry?.runner.release(k.mailboxId);
    }
    this.setJobs(this.#current.config);
  }

  /** B: resolves when the cycles of these mailbox directions have ended (a shed lease is released then). */
  async settled(keys: LeaseKey[]): Promise<void> {
    await Promise.all(keys.map((k) => this.#schedulers.find((s) => s.runner.name === k.direction)?.scheduler.settled(k.mailboxId) ?? Promise.resolve()));
  }

  /** B: whether a cycle of the mailbox direction runs now (the keeper sheds idle leases first). */
  isRunning(k: LeaseKey): boolean {
    return this.#schedulers.some((s) => s.runner.name === k.direction && s.scheduler.isRunning(k.mailboxId));
  }

  start(): void {
    for (const { scheduler } of this.#schedulers) scheduler.start();
  }

  /** Every direction of the mailbox is looked at now (after Test & Enable or an approval). */
  wake(mailboxId: string, direction?: string): void {
    for (const { runner, scheduler } of this.#schedulers) if (direction === undefined || runner.name === direction) scheduler.wake(mailboxId);
  }

  get inFlight(): number {
    return this.#schedulers.reduce((n, s) => n + s.scheduler.inFlight, 0);
  }

  get queueDepth(): number {
    return this.#schedulers.reduce((n, s) => n + s.scheduler.queueDepth, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#schedulers.map((s) => s.scheduler.stop()));
  }
}
