import { describe, expect, it } from 'vitest';
import type { LeaseKey } from '../store/index.js';
import { fairShare, planLeases, roundIntervalMs, validUntil } from './decide.js';

const inc = (...ids: string[]): LeaseKey[] => ids.map((mailboxId) => ({ mailboxId, direction: 'incoming' }));
const out = (...ids: string[]): LeaseKey[] => ids.map((mailboxId) => ({ mailboxId, direction: 'outgoing' }));
const idle = () => false;

describe('lease decisions', () => {
  it('shares round up, so the runners together always cover every direction', () => {
    expect([fairShare(300, 3), fairShare(301, 3), fairShare(2, 3), fairShare(5, 0)]).toEqual([100, 101, 1, 5]);
  });

  it('claims up to the share among the directions not held yet, per direction', () => {
    const plan = planLeases({ wanted: [...inc('a', 'b', 'c', 'd'), ...out('a', 'b')], held: inc('a'), liveRunners: 2, busy: idle });
    expect(plan.shed).toEqual([]);
    expect(plan.claim).toEqual([
      { direction: 'incoming', candidates: inc('b', 'c', 'd'), limit: 1 },
      { direction: 'outgoing', candidates: out('a', 'b'), limit: 1 },
    ]);
  });

  it('sheds what is beyond the share, idle leases first, and everything no longer configured', () => {
    const busy = (k: LeaseKey) => k.mailboxId === 'd';
    const plan = planLeases({ wanted: inc('a', 'b', 'c', 'd'), held: [...inc('a', 'b', 'c', 'd'), ...out('gone')], liveRunners: 2, busy });
    expect(plan.shed).toEqual([...out('gone'), ...inc('c', 'b')]);
    expect(plan.claim).toEqual([]);
  });

  it('claims nothing at its share and nothing when all are held', () => {
    expect(planLeases({ wanted: inc('a', 'b'), held: inc('a'), liveRunners: 2, busy: idle })).toEqual({ claim: [], shed: [] });
    expect(planLeases({ wanted: inc('a'), held: inc('a'), liveRunners: 1, busy: idle })).toEqual({ claim: [], shed: [] });
  });

  it('renews every third of the TTL and trusts a lease for the TTL from when the request was sent', () => {
    expect([roundIntervalMs(30_000), roundIntervalMs(1)]).toEqual([10_000, 1]);
    expect(validUntil(1_000, 30_000)).toBe(31_000);
  });
});
