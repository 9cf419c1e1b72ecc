import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.js';

/** A run whose end the test decides. */
function controlled() {
  const ends: (() => void)[] = [];
  let runs = 0;
  const run = () => new Promise<number>((resolve) => {
    const n = ++runs;
    ends.push(() => resolve(n));
  });
  return { run, ends, runs: () => runs };
}

describe('coalesce', () => {
  it('runs once at a time; calls during a run share the next run, started when it ends', async () => {
    const c = controlled();
    const call = coalesce(c.run);
    const first = call();
    const [second, third] = [call(), call()];
    expect(c.runs()).toBe(1);
    c.ends[0]?.();
    expect(await first).toBe(1);
    await expect.poll(() => c.runs()).toBe(2);
    const fourth = call(); // the second run is going: this one waits for a third
    c.ends[1]?.();
    expect([await second, await third]).toEqual([2, 2]);
    await expect.poll(() => c.runs()).toBe(3);
    c.ends[2]?.();
    expect(await fourth).toBe(3);
    const fifth = call(); // nothing running: starts at once
    expect(c.runs()).toBe(4);
    c.ends[3]?.();
    expect(await fifth).toBe(4);
  });

  it('starts the waiting run after a failed one, and hands the failure only to its own callers', async () => {
    let runs = 0;
    const call = coalesce(async () => {
      runs += 1;
      if (runs === 1) throw new Error('store down');
      return runs;
    });
    const [a, b] = [call(), call()];
    await expect(a).rejects.toThrow('store down');
    expect(await b).toBe(2);
  });
});
