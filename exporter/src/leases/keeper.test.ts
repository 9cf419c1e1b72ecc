import { describe, expect, it, vi } from 'vitest';
import { FakeTime, settle } from '../../../test/support/fake-time.js';
import { MemoryLeases } from '../../../test/support/leases.js';
import { createLogger } from '../log.js';
import type { Lease, LeaseKey } from '../store/index.js';
import { LeaseKeeper, type LeaseChange } from './keeper.js';

const TTL = 30_000;
const wanted = (n: number): LeaseKey[] => Array.from({ length: n }, (_, i) => ({ mailboxId: `m${String(i).padStart(2, '0')}`, direction: 'incoming' }));

function fleet(runners: string[], n: number, settled?: (keys: LeaseKey[]) => Promise<void>, notifies = false) {
  const time = new FakeTime();
  const db = new MemoryLeases(time);
  db.bus.notifies = notifies;
  const failed: Record<string, number> = {};
  const takenOver: Lease[] = [];
  const changes: Record<string, LeaseChange[]> = {};
  const views = new Map(runners.map((r) => [r, db.view()]));
  const keepers = new Map(runners.map((runner) => {
    const k = new LeaseKeeper({
      store: views.get(runner) as MemoryLeases, runner, ttlMs: TTL, clock: time.clock, timers: time.timers, logger: createLogger('silent'),
      wanted: () => wanted(n),
      events: { renewalsFailed: (c) => { failed[runner] = (failed[runner] ?? 0) + c; }, takenOver: async (l) => { takenOver.push(l); }, ...(settled ? { settled } : {}) },
    });
    k.onChange((c) => (changes[runner] ??= []).push(c));
    return [runner, k];
  }));
  const counts = () => Object.fromEntries([...keepers].map(([r, k]) => [r, k.held().length]));
  return { time, db, views, keepers, failed, takenOver, changes, counts };
}

/** Every wanted direction has exactly one holder, and each keeper's view agrees with the database. */
function expectNoOverlap(f: ReturnType<typeof fleet>, n: number) {
  const holders = f.db.holders();
  expect(holders.size).toBe(n);
  for (const [runner, k] of f.keepers) {
    for (const key of k.held()) expect(holders.get(`${key.direction}/${key.mailboxId}`)).toBe(runner);
  }
}

describe('LeaseKeeper', () => {
  it('three runners share 30 mailboxes 10 each, with no direction held twice', async () => {
    const f = fleet(['a', 'b', 'c'], 30);
    for (const k of f.keepers.values()) await k.start();
    // Runner a claimed everything before the others' heartbeats existed; its next round sheds.
    await f.time.advance(TTL / 3);
    await f.time.advance(TTL / 3);
    expect(f.counts()).toEqual({ a: 10, b: 10, c: 10 });
    expectNoOverlap(f, 30);
    const fences = [...f.keepers.values()].map((k) => k.fence('m00', 'incoming')).filter((x) => x !== undefined);
    expect(fences).toHaveLength(1);
    expect(fences[0]?.runner).toBe(f.db.holders().get('incoming/m00'));
  });

  it('a stopped runner releases its leases and the others take them in their next round', async () => {
    const f = fleet(['a', 'b'], 10);
    for (const k of f.keepers.values()) await k.start();
    await f.time.advance(TTL / 3);
    expect(f.counts()).toEqual({ a: 5, b: 5 });
    await f.keepers.get('a')?.stop();
    expect(f.db.holders().size).toBe(5);
    // Runner a's heartbeat ages out within one TTL; b's share grows to all ten.
    await f.time.advance(TTL);
    expect(f.counts()).toEqual({ a: 0, b: 10 });
    expectNoOverlap(f, 10);
    expect(f.takenOver).toEqual([]);
  });

  it('a runner whose database hangs drops its leases once the TTL has passed, and another takes them over', async () => {
    const f = fleet(['a', 'b'], 4);
    for (const k of f.keepers.values()) await k.start();
    await f.time.advance(TTL / 3);
    const aHeld = f.keepers.get('a')?.held() ?? [];
    expect(aHeld).toHaveLength(2);
    (f.views.get('a') as MemoryLeases).hang = true;
    await f.time.advance(TTL);
    // Nothing was answered, yet a no longer thinks it holds anything: its cycles were told to stop.
    expect(f.keepers.get('a')?.held()).toEqual([]);
    expect(f.changes.a?.at(-1)?.lost).toEqual(aHeld);
    await f.time.advance(TTL);
    expect(f.counts()).toEqual({ a: 0, b: 4 });
    expect(f.takenOver.map((l) => [l.mailboxId, l.token, l.previousRunner])).toEqual(aHeld.map((k) => [k.mailboxId, 2, 'a']));
  });

  it('keeps its leases through a database outage shorter than the TTL, and counts the failed renewals', async () => {
    const f = fleet(['a'], 3);
    await f.keepers.get('a')?.start();
    expect(f.keepers.get('a')?.storeUnreachable).toBe(false);
    (f.views.get('a') as MemoryLeases).down = true;
    await f.time.advance(TTL / 3);
    expect(f.keepers.get('a')?.held()).toHaveLength(3);
    expect(f.failed.a).toBe(3);
    // G: what the readiness endpoint reports, until a round gets its answers again.
    expect(f.keepers.get('a')?.storeUnreachable).toBe(true);
    (f.views.get('a') as MemoryLeases).down = false;
    await f.time.advance(TTL / 3);
    expect(f.keepers.get('a')?.held()).toHaveLength(3);
    expect(f.keepers.get('a')?.storeUnreachable).toBe(false);
    expect(f.changes.a).toHaveLength(1);
  });

  it('loses a lease the database gave to another runner, at its next renewal', async () => {
    const f = fleet(['a'], 2);
    await f.keepers.get('a')?.start();
    const row = f.db.rows.get('incoming/m01');
    Object.assign(row ?? {}, { runner: 'b', token: 2 });
    await f.time.advance(TTL / 3);
    expect(f.keepers.get('a')?.held().map((k) => k.mailboxId)).toEqual(['m00']);
    expect(f.changes.a?.at(-1)?.lost).toEqual([{ mailboxId: 'm01', direction: 'incoming' }]);
    expect(f.failed.a).toBe(1);
    await settle();
  });

  it('after a pause past the TTL (SIGSTOP) drops every lease first, then claims them again with a new token', async () => {
    const f = fleet(['a'], 2);
    await f.keepers.get('a')?.start();
    // The process was stopped: its clock jumps past the TTL before any timer could run.
    f.time.now += TTL + 5_000;
    await f.time.advance(0);
    const [dropped, regained] = (f.changes.a ?? []).slice(1);
    expect(dropped?.lost.map((k) => k.mailboxId)).toEqual(['m00', 'm01']);
    expect(regained?.gained.map((l) => [l.mailboxId, l.token])).toEqual([['m00', 2], ['m01', 2]]);
    expect(f.keepers.get('a')?.fence('m00', 'incoming')?.token).toBe(2);
  });

  it('releases a shed lease only once its cycle has ended, and tells the schedulers at once', async () => {
    let end = () => undefined as void;
    const cycleEnded = new Promise<void>((resolve) => { end = resolve; });
    const f = fleet(['a', 'b'], 2, () => cycleEnded);
    await f.keepers.get('a')?.start();
    await f.keepers.get('b')?.start();
    await f.time.advance(TTL / 3);
    // a shed one lease: its schedulers know now, but the row stays a's until the cycle ends.
    expect(f.keepers.get('a')?.held()).toHaveLength(1);
    expect(f.changes.a?.at(-1)?.lost).toEqual([{ mailboxId: 'm01', direction: 'incoming' }]);
    expect(f.db.holders().get('incoming/m01')).toBe('a');
    end();
    await f.time.advance(TTL / 3);
    expect(f.db.holders().get('incoming/m01')).toBe('b');
    expect(f.counts()).toEqual({ a: 1, b: 1 });
  });

  describe('F: with the database\'s lease notifications (PostgreSQL)', () => {
    /** Notifications and the rounds they start, run out with no timer moving. */
    const quiet = async () => {
      for (let i = 0; i < 10; i++) await settle();
    };

    it('runners starting one after another get their fair shares at once, not at the holder\'s next round', async () => {
      const f = fleet(['a', 'b', 'c'], 30, undefined, true);
      await f.keepers.get('a')?.start();
      // Up first and alone: a holds everything, as before.
      expect(f.counts()).toEqual({ a: 30, b: 0, c: 0 });
      await f.keepers.get('b')?.start();
      await quiet();
      expect(f.counts()).toEqual({ a: 15, b: 15, c: 0 });
      await f.keepers.get('c')?.start();
      await quiet();
      expect(f.counts()).toEqual({ a: 10, b: 10, c: 10 });
      expectNoOverlap(f, 30);
    });

    it('a graceful stop hands its leases to the others at once: released, and its heartbeat gone from the shares', async () => {
      const f = fleet(['a', 'b'], 10, undefined, true);
      for (const k of f.keepers.values()) await k.start();
      await quiet();
      expect(f.counts()).toEqual({ a: 5, b: 5 });
      await f.keepers.get('a')?.stop();
      await quiet();
      expect(f.counts()).toEqual({ a: 0, b: 10 });
      expectNoOverlap(f, 10);
    });

    it('a runner ignores its own notifications: shedding does not start another round of its own', async () => {
      const f = fleet(['a', 'b'], 4, undefined, true);
      await f.keepers.get('a')?.start();
      const heartbeats = vi.spyOn(f.views.get('a') as MemoryLeases, 'heartbeat');
      await f.keepers.get('b')?.start();
      await quiet();
      expect(f.counts()).toEqual({ a: 2, b: 2 });
      // One round for b's join; a's own release after shedding made none.
      expect(heartbeats).toHaveBeenCalledTimes(1);
    });
  });
});
