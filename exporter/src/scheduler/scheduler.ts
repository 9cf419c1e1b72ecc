import type { Clock } from '../clock.js';
import { DueQueue } from './due-queue.js';

/** Timer functions, injected so tests drive time by hand instead of sleeping. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Job {
  /** The mailbox id. */
  id: string;
  /** The profile: jobs of one group share its concurrency limit. */
  group: string;
  intervalMs: number;
}

export interface SchedulerOptions {
  clock: Clock;
  timers: Timers;
  /** In [0, 1); tests pass a fixed sequence. */
  random: () => number;
  maxConcurrent: number;
  groupLimit: (group: string) => number;
  /** ± share of the interval added at random to each next due time. */
  jitterRatio: number;
  /** True while the process is too slow to take more work (event-loop delay). */
  overloaded?: () => boolean;
  /** How long to wait before looking again while overloaded. */
  overloadBackoffMs?: number;
  /**
   * Runs a job. It may say when it wants to run next: a time (a retry after a transient failure),
   * or null to wait until `wake` (a disabled mailbox). Nothing means one interval from now.
   */
  run: (jobId: string, signal: AbortSignal) => Promise<RunResult | void>;
  onError?: (jobId: string, error: unknown) => void;
}

export interface RunResult {
  nextDueAt?: number | null;
}

interface Entry {
  job: Job;
  due: number;
  running: boolean;
  /** `wake` was called while the job ran: run again as soon as it ends. */
  woken: boolean;
}

interface Run {
  done: Promise<void>;
  /**
   * One per run, not one for the scheduler: each operation of a run that listens for the stop
   * listens on its own run's signal, so listeners never pile up on a signal that lives as long
   * as the process (Node warns past 10, and `maxConcurrent` is 16 by default).
   */
  abort: AbortController;
}

/**
 * Decides when each mailbox's cycle runs. A cycle's next run is due one interval (± jitter) after
 * it ends, as the product does, so a slow mailbox never queues behind itself. Due jobs start in
 * order of due time while the global and per-profile limits allow and the process is not
 * overloaded; the rest wait and are counted as the queue depth. Waiting jobs are kept in a
 * `DueQueue`, so each of these steps costs O(log n) for n mailboxes.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #queue = new DueQueue();
  readonly #running = new Map<string, Run>();
  readonly #groupRunning = new Map<string, number>();
  #timer: unknown;
  #timerAt = Infinity;
  #started = false;
  #stopping = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /**
   * Replaces the job list (start and config reload). Kept jobs keep their due time; new ones are
   * spread over the first interval's jitter window so a fleet does not start in the same second.
   */
  setJobs(jobs: Job[]): void {
    const now = this.#o.clock.now();
    const wanted = new Set(jobs.map((j) => j.id));
    for (const [id, entry] of this.#entries) {
      if (wanted.has(id)) continue;
      // A running job is dropped when its cycle ends (an infinite interval marks it).
      if (entry.running) entry.job = { ...entry.job, intervalMs: Infinity };
      else {
        this.#entries.delete(id);
        this.#queue.delete(id);
      }
    }
    for (const job of jobs) {
      const entry = this.#entries.get(job.id);
      if (!entry) {
        const due = now + Math.floor(this.#o.random() * job.intervalMs * this.#o.jitterRatio);
        this.#entries.set(job.id, { job, due, running: false, woken: false });
        this.#queue.set(job.id, job.group, due, now);
        continue;
      }
      // A mailbox moved to another profile waits under that profile's limit.
      if (!entry.running && entry.job.group !== job.group) this.#queue.set(job.id, job.group, entry.due, now);
      entry.job = job;
    }
    // Limits may have changed with the config: parked jobs are looked at again.
    this.#queue.releaseAll();
    if (this.#started) this.#tick();
  }

  start(): void {
    this.#started = true;
    this.#tick();
  }

  /** Jobs currently running. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Jobs due now that wait for a free slot. */
  get queueDepth(): number {
    return this.#queue.waiting(this.#o.clock.now());
  }

  /** Due time of a job, for the status page and tests. */
  dueAt(id: string): number | undefined {
    return this.#entries.get(id)?.due;
  }

  /** Makes a job due now (after Test & Enable or an approval), or right after its running cycle. */
  wake(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    if (entry.running) entry.woken = true;
    else {
      entry.due = this.#o.clock.now();
      this.#queue.set(id, entry.job.group, entry.due, entry.due);
    }
    if (this.#started) this.#tick();
  }

  /** B: asks a running cycle of the job to stop at its next safe point (its lease was lost); false when none runs. */
  abort(id: string): boolean {
    const run = this.#running.get(id);
    run?.abort.abort();
    return run !== undefined;
  }

  /** B: resolves when the job's running cycle (if any) has ended. */
  settled(id: string): Promise<void> {
    return this.#running.get(id)?.done ?? Promise.resolve();
  }

  /** B: whether a cycle of the job runs now. */
  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  /**
   * Starts nothing new and asks running cycles to stop at their next safe point (between two
   * batches); resolves when every one has returned.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearTimer();
    const runs = [...this.#running.values()];
    for (const run of runs) run.abort.abort();
    await Promise.allSettled(runs.map((run) => run.done));
  }

  #tick(): void {
    if (this.#stopping) return;
    const now = this.#o.clock.now();
    const hasRoom = (group: string) => (this.#groupRunning.get(group) ?? 0) < this.#o.groupLimit(group);
    while (this.#running.size < this.#o.maxConcurrent) {
      const id = this.#queue.firstStartable(now, hasRoom);
      if (id === undefined) break;
      if (this.#o.overloaded?.()) {
        this.#armTimer(now + (this.#o.overloadBackoffMs ?? 100));
        return;
      }
      this.#launch(this.#entries.get(id) as Entry);
    }
    this.#armTimer(this.#queue.nextDueAfter(now));
  }

  #launch(entry: Entry): void {
    const { id, group } = entry.job;
    entry.running = true;
    this.#queue.delete(id);
    this.#groupRunning.set(group, (this.#groupRunning.get(group) ?? 0) + 1);
    const abort = new AbortController();
    const done = Promise.resolve()
      .then(() => this.#o.run(id, abort.signal))
      .catch((error: unknown) => {
        this.#o.onError?.(id, error);
      })
      .then((result) => {
        entry.running = false;
        this.#running.delete(id);
        this.#groupRunning.set(group, (this.#groupRunning.get(group) ?? 1) - 1);
        this.#queue.release(group);
        const interval = entry.job.intervalMs;
        const now = this.#o.clock.now();
        if (!Number.isFinite(interval)) this.#entries.delete(id);
        else if (entry.woken) entry.due = now;
        else if (result?.nextDueAt === null) entry.due = Infinity;
        else if (typeof result?.nextDueAt === 'number') entry.due = Math.max(now, result.nextDueAt);
        else entry.due = now + Math.round(interval * (1 + this.#o.jitterRatio * (2 * this.#o.random() - 1)));
        entry.woken = false;
        if (this.#entries.get(id) === entry) this.#queue.set(id, entry.job.group, entry.due, now);
        this.#tick();
      });
    this.#running.set(id, { done, abort });
  }

  #armTimer(at: number): void {
    if (!Number.isFinite(at)) return;
    if (this.#timer !== undefined && at >= this.#timerAt) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#tick();
    }, Math.max(0, at - this.#o.clock.now()));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

/** A mailbox's poll interval: the sync setting, but never below its profile's minimum. */
export function pollIntervalMs(pollIntervalSeconds: number, profileMinSeconds: number): number {
  return Math.max(pollIntervalSeconds, profileMinSeconds) * 1_000;
}
