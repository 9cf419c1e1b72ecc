import { describe, expect, it } from 'vitest';
import { DueQueue } from './due-queue.js';

const always = () => true;

describe('DueQueue', () => {
  it('hands out jobs due now by due time, and counts them as waiting until taken', () => {
    const q = new DueQueue();
    q.set('late', 'p', 300, 0);
    q.set('b', 'p', 200, 0);
    q.set('a', 'p', 100, 0);
    expect([q.waiting(0), q.nextDueAfter(0)]).toEqual([0, 100]);
    expect([q.waiting(250), q.firstStartable(250, always)]).toEqual([2, 'a']);
    q.delete('a');
    expect([q.waiting(250), q.firstStartable(250, always), q.nextDueAfter(250)]).toEqual([1, 'b', 300]);
  });

  it('a job moved or taken out leaves nothing behind that counts', () => {
    const q = new DueQueue();
    q.set('a', 'p', 100, 0);
    q.set('a', 'p', 500, 0);
    q.set('b', 'p', 50, 0);
    q.delete('b');
    expect([q.nextDueAfter(0), q.waiting(200), q.firstStartable(200, always)]).toEqual([500, 0, undefined]);
    q.set('a', 'p', Infinity, 0);
    expect([q.nextDueAfter(1_000), q.waiting(1_000)]).toEqual([Infinity, 0]);
  });

  it('parks jobs of a full profile and brings them back one per freed slot, earliest first', () => {
    const q = new DueQueue();
    q.set('s1', 'small', 10, 100);
    q.set('s2', 'small', 20, 100);
    q.set('b1', 'big', 30, 100);
    const roomIn = new Set(['big']);
    expect(q.firstStartable(100, (g) => roomIn.has(g))).toBe('b1');
    q.delete('b1');
    expect([q.firstStartable(100, (g) => roomIn.has(g)), q.waiting(100)]).toEqual([undefined, 2]);
    roomIn.add('small');
    // Parked jobs are not looked at again until their profile frees a slot.
    expect(q.firstStartable(100, always)).toBeUndefined();
    q.release('small');
    expect(q.firstStartable(100, always)).toBe('s1');
    q.delete('s1');
    expect(q.firstStartable(100, always)).toBeUndefined();
    q.releaseAll();
    expect([q.firstStartable(100, always), q.waiting(100)]).toEqual(['s2', 1]);
  });

  it('skips a parked job that was moved or taken out meanwhile', () => {
    const q = new DueQueue();
    q.set('a', 'p', 0, 0);
    q.set('b', 'p', 0, 0);
    expect(q.firstStartable(0, () => false)).toBeUndefined();
    q.delete('a');
    q.release('p');
    expect([q.firstStartable(0, always), q.waiting(0)]).toEqual(['b', 1]);
  });
});
