import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeTime, settle as flush } from '../../../test/support/fake-time.js';
import { pollIntervalMs, Scheduler, type Job, type RunResult, type SchedulerOptions } from './scheduler.js';

/** Jobs that finish when the test releases them, optionally saying when to run next. */
function harness(overrides: Partial<SchedulerOptions> = {}) {
  const time = new FakeTime();
  const started: { id: string; at: number }[] = [];
  const pending = new Map<string, (result?: RunResult) => void>();
  const scheduler = new Scheduler({
    clock: time.clock,
    timers: time.timers,
    random: () => 0.5,
    maxConcurrent: 10,
    groupLimit: () => 10,
    jitterRatio: 0,
    run: (id, signal) =>
      new Promise<RunResult | undefined>((resolve) => {
        started.push({ id, at: time.now });
        pending.set(id, resolve);
        signal.addEventListener('abort', () => resolve(undefined));
      }),
    ...overrides,
  });
  const finish = async (id: string, result?: RunResult) => {
    pending.get(id)?.(result);
    pending.delete(id);
    await flush();
  };
  return { time, started, scheduler, finish, running: () => [...pending.keys()].sort() };
}

const job = (id: string, intervalMs = 60_000, group = 'p'): Job => ({ id, group, intervalMs });

describe('Scheduler', () => {
  it('runs each job at start, then one interval after its cycle ends', async () => {
    const h = harness();
    h.scheduler.setJobs([job('a')]);
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.started).toEqual([{ id: 'a', at: 0 }]);
    await h.time.advance(5_000);
    await h.finish('a');
    await h.time.advance(59_999);
    expect(h.started).toHaveLength(1);
    await h.time.advance(1);
    expect(h.started).toEqual([{ id: 'a', at: 0 }, { id: 'a', at: 65_000 }]);
  });

  it('never runs two cycles of one mailbox at once, however late it is', async () => {
    const h = harness();
    h.scheduler.setJobs([job('a', 1_000)]);
    h.scheduler.start();
    await h.time.advance(10_000);
    expect(h.started).toHaveLength(1);
    await h.finish('a');
    await h.time.advance(999);
    expect(h.started).toHaveLength(1);
    await h.time.advance(1);
    expect(h.started).toHaveLength(2);
  });

  it('holds the global limit and counts the rest as queued', async () => {
    const h = harness({ maxConcurrent: 2 });
    h.scheduler.setJobs(['a', 'b', 'c', 'd'].map((id) => job(id)));
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.running()).toEqual(['a', 'b']);
    expect([h.scheduler.inFlight, h.scheduler.queueDepth]).toEqual([2, 2]);
    await h.finish('b');
    expect(h.running()).toEqual(['a', 'c']);
    expect(h.scheduler.queueDepth).toBe(1);
  });

  it('holds each profile to its own limit while other profiles go on', async () => {
    const h = harness({ groupLimit: (g) => (g === 'small' ? 1 : 10) });
    h.scheduler.setJobs([job('s1', 60_000, 'small'), job('s2', 60_000, 'small'), job('b1', 60_000, 'big')]);
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.running()).toEqual(['b1', 's1']);
    await h.finish('s1');
    expect(h.running()).toEqual(['b1', 's2']);
  });

  it('spreads first runs over the jitter window and jitters later ones within ±ratio', async () => {
    const randoms = [0.25, 0.75, 0, 0.999];
    const h = harness({ jitterRatio: 0.1, random: () => randoms.shift() ?? 0.5 });
    h.scheduler.setJobs([job('a', 100_000), job('b', 100_000)]);
    expect([h.scheduler.dueAt('a'), h.scheduler.dueAt('b')]).toEqual([2_500, 7_500]);
    h.scheduler.start();
    await h.time.advance(7_500);
    await h.finish('a');
    await h.finish('b');
    expect([h.scheduler.dueAt('a'), h.scheduler.dueAt('b')]).toEqual([7_500 + 90_000, 7_500 + 109_980]);
  });

  it('starts nothing while the process is overloaded and looks again later', async () => {
    let overloaded = true;
    const h = harness({ overloaded: () => overloaded, overloadBackoffMs: 100 });
    h.scheduler.setJobs([job('a')]);
    h.scheduler.start();
    await h.time.advance(500);
    expect(h.started).toHaveLength(0);
    expect(h.scheduler.queueDepth).toBe(1);
    overloaded = false;
    await h.time.advance(100);
    expect(h.started).toEqual([{ id: 'a', at: 600 }]);
  });

  it('keeps due times across a reload, adds new jobs and drops removed ones after they finish', async () => {
    const h = harness();
    h.scheduler.setJobs([job('a'), job('b')]);
    h.scheduler.start();
    await h.time.advance(0);
    h.scheduler.setJobs([job('b'), job('c')]);
    await h.time.advance(0);
    expect(h.running()).toEqual(['a', 'b', 'c']);
    await h.finish('a');
    expect(h.scheduler.dueAt('a')).toBeUndefined();
    await h.finish('b');
    expect(h.scheduler.dueAt('b')).toBe(60_000);
  });

  it('stops: no new cycles, running ones are told to stop and awaited', async () => {
    const seen: boolean[] = [];
    const h = harness({
      run: (_id, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => {
        seen.push(signal.aborted);
        resolve();
      })),
      maxConcurrent: 1,
    });
    h.scheduler.setJobs([job('a'), job('b')]);
    h.scheduler.start();
    await h.time.advance(0);
    await h.scheduler.stop();
    expect(seen).toEqual([true]);
    await h.time.advance(120_000);
    expect(h.scheduler.inFlight).toBe(0);
  });

  it('reports a job that throws and keeps scheduling it', async () => {
    const errors: string[] = [];
    let calls = 0;
    const h = harness({
      run: async () => {
        calls += 1;
        throw new Error('boom');
      },
      onError: (id, e) => errors.push(`${id}: ${(e as Error).message}`),
    });
    h.scheduler.setJobs([job('a', 1_000)]);
    h.scheduler.start();
    await h.time.advance(1_000);
    expect([calls, errors[0]]).toEqual([2, 'a: boom']);
  });
});

describe('pollIntervalMs', () => {
  it('never goes below the profile minimum', () => {
    expect(pollIntervalMs(300, 60)).toBe(300_000);
    expect(pollIntervalMs(30, 60)).toBe(60_000);
  });
});

describe('Scheduler: next due time chosen by the run', () => {
  it('runs again at the time the run asked for (a retry), not one interval later', async () => {
    const { time, started, scheduler, finish } = harness();
    scheduler.setJobs([job('a', 60_000)]);
    scheduler.start();
    await flush();
    await finish('a', { nextDueAt: 5_000 });
    await time.advance(4_999);
    expect(started).toHaveLength(1);
    await time.advance(1);
    expect(started.map((s) => s.at)).toEqual([0, 5_000]);
  });

  it('parks a job that asks for null until it is woken, and counts it nowhere meanwhile', async () => {
    const { time, started, scheduler, finish } = harness();
    scheduler.setJobs([job('a', 60_000)]);
    scheduler.start();
    await flush();
    await finish('a', { nextDueAt: null });
    await time.advance(10 * 60_000);
    expect(started).toHaveLength(1);
    expect(scheduler.queueDepth).toBe(0);
    scheduler.wake('a');
    await flush();
    expect(started.map((s) => s.at)).toEqual([0, 600_000]);
  });

  it('a wake during a run makes the job run again as soon as it ends', async () => {
    const { time, started, scheduler, finish } = harness();
    scheduler.setJobs([job('a', 60_000)]);
    scheduler.start();
    await flush();
    await time.advance(1_000);
    scheduler.wake('a');
    await finish('a', { nextDueAt: null });
    expect(started.map((s) => s.at)).toEqual([0, 1_000]);
  });
});


describe('Scheduler: a fleet in one queue', () => {
  it('starts many jobs in order of due time, each at its due time', async () => {
    const n = 1_000;
    // A fixed permutation of first due times over the jitter window (one interval).
    const slots = Array.from({ length: n }, (_, i) => (i * 389) % n);
    const firstRandoms = slots.map((s) => s / n);
    const started: { id: string; at: number }[] = [];
    const h = harness({
      jitterRatio: 1, maxConcurrent: 1, random: () => firstRandoms.shift() ?? 0.5,
      run: async (id) => {
        started.push({ id, at: h.time.now });
      },
    });
    h.scheduler.setJobs(slots.map((_, i) => job(`m${i}`, n * 1_000)));
    const expected = slots.map((_, i) => ({ id: `m${i}`, at: h.scheduler.dueAt(`m${i}`) as number })).sort((a, b) => a.at - b.at);
    h.scheduler.start();
    await h.time.advance(n * 1_000 - 1);
    expect(started).toEqual(expected);
  });

  it('starts jobs due at the same time in the order they were queued', async () => {
    const h = harness({ maxConcurrent: 1 });
    h.scheduler.setJobs(['c', 'a', 'd', 'b'].map((id) => job(id)));
    h.scheduler.start();
    await h.time.advance(0);
    for (const id of ['c', 'a', 'd']) await h.finish(id);
    expect(h.started.map((s) => s.id)).toEqual(['c', 'a', 'd', 'b']);
  });

  it('lets other profiles go on past a full profile, without looking at its backlog again', async () => {
    let limitChecks = 0;
    const h = harness({
      maxConcurrent: 2,
      groupLimit: (g) => {
        limitChecks += 1;
        return g === 'small' ? 1 : 10;
      },
    });
    const small = Array.from({ length: 100 }, (_, i) => job(`s${i}`, 60_000, 'small'));
    h.scheduler.setJobs([...small, job('b0', 60_000, 'big'), job('b1', 60_000, 'big'), job('b2', 60_000, 'big')]);
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.running()).toEqual(['b0', 's0']);
    expect(h.scheduler.queueDepth).toBe(101);
    limitChecks = 0;
    await h.finish('b0');
    await h.finish('b1');
    expect(h.running()).toEqual(['b2', 's0']);
    // Each completion looks at a handful of jobs, not at the 99 parked ones.
    expect(limitChecks).toBeLessThan(10);
    await h.finish('s0');
    expect(h.running()).toEqual(['b2', 's1']);
    expect(h.scheduler.queueDepth).toBe(98);
  });

  it('takes the parked job of a profile at the reload that raises its limit', async () => {
    let limit = 1;
    const h = harness({ groupLimit: () => limit });
    const jobs = [job('a'), job('b'), job('c')];
    h.scheduler.setJobs(jobs);
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.running()).toEqual(['a']);
    limit = 3;
    h.scheduler.setJobs(jobs);
    await h.time.advance(0);
    expect(h.running()).toEqual(['a', 'b', 'c']);
  });

  it('drops a removed job that was running once it ends, and a removed parked one at once', async () => {
    const h = harness({ groupLimit: () => 1 });
    h.scheduler.setJobs([job('a'), job('b'), job('c')]);
    h.scheduler.start();
    await h.time.advance(0);
    expect([h.running(), h.scheduler.queueDepth]).toEqual([['a'], 2]);
    h.scheduler.setJobs([job('c')]);
    expect(h.scheduler.queueDepth).toBe(1);
    await h.finish('a');
    expect(h.running()).toEqual(['c']);
    expect([h.scheduler.dueAt('a'), h.scheduler.dueAt('b')]).toEqual([undefined, undefined]);
    await h.finish('c');
    await h.time.advance(120_000);
    expect(h.started.map((s) => s.id)).toEqual(['a', 'c', 'c']);
  });

  it('a woken job that waits for its profile still waits for a free slot', async () => {
    const h = harness({ groupLimit: () => 1 });
    h.scheduler.setJobs([job('a'), job('b')]);
    h.scheduler.start();
    await h.time.advance(1_000);
    h.scheduler.wake('b');
    await h.time.advance(0);
    expect([h.running(), h.scheduler.queueDepth, h.scheduler.dueAt('b')]).toEqual([['a'], 1, 1_000]);
    await h.finish('a');
    expect(h.running()).toEqual(['b']);
  });

  it('a woken disabled job goes ahead of jobs due later, behind jobs due earlier', async () => {
    const h = harness({ maxConcurrent: 1 });
    h.scheduler.setJobs([job('a'), job('b'), job('c')]);
    h.scheduler.start();
    await h.time.advance(0);
    await h.finish('a', { nextDueAt: null });
    await h.time.advance(1_000);
    h.scheduler.wake('a');
    await h.finish('b');
    await h.finish('c');
    expect(h.started.map((s) => `${s.id}@${s.at}`)).toEqual(['a@0', 'b@0', 'c@1000', 'a@1000']);
  });

  it('counts as queued the jobs that fell due while every slot was taken', async () => {
    const randoms = [0, 0.1, 0.2];
    const h = harness({ maxConcurrent: 1, jitterRatio: 1, random: () => randoms.shift() ?? 0.5 });
    h.scheduler.setJobs([job('a', 10_000), job('b', 10_000), job('c', 10_000)]);
    h.scheduler.start();
    await h.time.advance(1_500);
    expect(h.scheduler.queueDepth).toBe(1);
    await h.time.advance(1_000);
    expect(h.scheduler.queueDepth).toBe(2);
  });
});

describe('Scheduler: stop signals', () => {
  it('gives each run its own signal, so listeners never pile up on one', async () => {
    const signals = new Set<AbortSignal>();
    const h = harness({
      maxConcurrent: 20,
      groupLimit: () => 20,
      run: (_id, signal) => {
        signals.add(signal);
        // Like a connect in progress: one listener for as long as the run lasts.
        return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    });
    h.scheduler.setJobs(Array.from({ length: 20 }, (_, i) => job(`m${i}`, 1_000)));
    h.scheduler.start();
    await h.time.advance(0);
    expect(h.scheduler.inFlight).toBe(20);
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    await h.scheduler.stop();
    expect([signals.size, [...signals].every((s) => s.aborted)]).toEqual([20, true]);
  });

  it('aborts every running cycle at stop, not only the first', async () => {
    const h = harness();
    h.scheduler.setJobs([job('a'), job('b'), job('c')]);
    h.scheduler.start();
    await h.time.advance(0);
    await h.scheduler.stop();
    expect([h.scheduler.inFlight, h.started.length]).toEqual([0, 3]);
  });
});
