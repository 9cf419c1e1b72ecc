import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../index.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function store(): Promise<Store> {
  const s = await openStore({ path: ':memory:' });
  stores.push(s);
  return s;
}

describe('SQLite: one runner holds every lease', () => {
  it('wins every claim once, with token 1, renews what it holds and frees what it releases', async () => {
    const { leases } = await store();
    const wanted = [{ mailboxId: 'a', direction: 'incoming' as const }, { mailboxId: 'b', direction: 'outgoing' as const }];
    expect(await leases.heartbeat('r', 30_000)).toBe(1);
    const won = await leases.claim('r', wanted, 10, 30_000);
    expect(won.map((l) => [l.mailboxId, l.token])).toEqual([['a', 1], ['b', 1]]);
    expect(await leases.renew('r', won, 30_000)).toHaveLength(2);
    // A runner that dropped its leases (its TTL passed during a pause) gets them back at once: there is no other runner.
    expect((await leases.claim('r', wanted, 1, 30_000)).map((l) => [l.mailboxId, l.token])).toEqual([['a', 1]]);
    await leases.release('r', won.slice(0, 1));
    expect((await leases.list()).map((r) => [r.mailboxId, r.runner, r.live])).toEqual([['b', 'r', true]]);
    expect(await leases.renew('r', won, 30_000)).toHaveLength(1);
  });

  it('abortOpenRunsOf closes the open runs of one mailbox direction only', async () => {
    const s = await store();
    await s.runs.startRun('a', 'incoming', 1, false);
    await s.runs.startRun('a', 'outgoing', 1, false);
    await s.runs.startRun('b', 'incoming', 1, false);
    expect(await s.runs.abortOpenRunsOf('a', 'incoming', 5)).toBe(1);
    expect((await s.runs.listRuns('a')).map((r) => [r.direction, r.result])).toEqual([['outgoing', null], ['incoming', 'aborted']]);
    expect((await s.runs.listRuns('b'))[0]?.result).toBeNull();
  });
});
