import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { DirectionRunner } from '../directions/contract.js';
import type { CycleOutcome } from '../directions/run.js';
import type { Turn } from '../directions/turn.js';
import type { Logger } from '../log.js';
import { Scheduler, systemTimers, type Job, type Timers } from '../scheduler/scheduler.js';
import type { CurrentConfig } from './current.js';

export type OutcomeListener = (outcome: CycleOutcome, profileId: string, retry: boolean) => void;

export interface SchedulersDeps {
  current: CurrentConfig;
  clock: Clock;
  timers?: Timers | undefined;
  logger: Logger;
  /** True while the process is too slow to take more work. */
  overloaded: () => boolean;
}

/**
 * One scheduler per direction, sharing the global limits from the config at start; each runs its
 * direction's turn for a mailbox and tells the listeners what happened.
 */
export class DirectionSchedulers {
  readonly #schedulers: { runner: DirectionRunner; scheduler: Scheduler }[] = [];
  readonly #listeners: OutcomeListener[] = [];
  readonly #current: CurrentConfig;

  constructor(entries: { runner: DirectionRunner; turn: Turn }[], deps: SchedulersDeps) {
    this.#current = deps.current;
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
          if (!found) return undefined;
          const { outcome, retry, ...next } = await turn(found.mailbox, found.profile, signal);
          if (outcome) for (const listen of this.#listeners) listen(outcome, found.profile.id, retry ?? false);
          return next;
        },
        onError: (id, error) => deps.logger.error({ mailbox: id, err: error }, `${runner.name} cycle crashed`),
      });
      this.#schedulers.push({ runner, scheduler });
    }
  }

  onOutcome(listener: OutcomeListener): void {
    this.#listeners.push(listener);
  }

  /** The mailboxes configured for each direction become that scheduler's jobs (start and reload). */
  setJobs(config: Config): void {
    for (const { runner, scheduler } of this.#schedulers) {
      const jobs: Job[] = [];
      for (const m of config.mailboxes) {
        const profile = this.#current.profile(m.profile);
        if (m[runner.name] && profile) jobs.push({ id: m.id, group: m.profile, intervalMs: runner.intervalMs(config, profile) });
      }
      scheduler.setJobs(jobs);
    }
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
