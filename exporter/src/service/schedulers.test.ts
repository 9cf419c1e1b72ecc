import { afterEach, describe, expect, it } from 'vitest';
import { FakeTime, settle } from '../../../test/support/fake-time.js';
import { MemoryLeases } from '../../../test/support/leases.js';
import { parseConfig } from '../config/index.js';
import type { CycleWork, DirectionRunner } from '../directions/contract.js';
import { createTurn } from '../directions/turn.js';
import { LeaseKeeper } from '../leases/keeper.js';
import { wantedLeases } from '../leases/wanted.js';
import { createLogger } from '../log.js';
import { currentFence, FencedError, openStore, type Fence, type Store } from '../store/index.js';
import { CurrentConfig } from './current.js';
import { DirectionSchedulers } from './schedulers.js';

const config = parseConfig(`
organization: { id: acme, processOnlyApproved: false }
profiles:
  - { id: corp, incoming: { host: imap.example.com } }
mailboxes:
${['m0', 'm1', 'm2', 'm3'].map((id) => `  - { id: ${id}, address: ${id}@example.com, profile: corp, credentials: { username: ${id}, password: pw } }`).join('\n')}
`, '/etc/mailsync.yaml', {});

const logger = createLogger('silent');
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** An incoming direction whose cycles run until the test ends them or the scheduler aborts them. */
function fakeIncoming() {
  const running = new Map<string, { fence: Fence | undefined; end: (work?: Partial<CycleWork>) => void; fail: (e: Error) => void }>();
  const released: string[] = [];
  const runner = {
    name: 'incoming', intervalMs: () => 1_000, groupLimit: () => 10, release: (id: string) => released.push(id),
    closeIdle: () => undefined, close: async () => undefined, check: async () => ({ ok: true }),
    cycle: (mailbox: { id: string }, _p: unknown, _c: unknown, signal?: AbortSignal) => new Promise<CycleWork>((resolve, reject) => {
      const done = (w: Partial<CycleWork> = {}) => {
        running.delete(mailbox.id);
        resolve({ itemsProcessed: 0, itemsFailed: 0, stored: 0, failedByCode: {}, aborted: false, folders: [], ...w });
      };
      running.set(mailbox.id, { fence: currentFence(), end: done, fail: (e) => { running.delete(mailbox.id); reject(e); } });
      signal?.addEventListener('abort', () => done({ aborted: true }));
    }),
  } as unknown as DirectionRunner;
  return { runner, running, released };
}

async function runnerA() {
  const time = new FakeTime();
  const db = new MemoryLeases(time);
  const store = await openStore({ path: ':memory:' });
  stores.push(store);
  const current = new CurrentConfig(config, time.clock);
  const incoming = fakeIncoming();
  const keeperOf = (runner: string): LeaseKeeper => new LeaseKeeper({
    store: db.view(), runner, ttlMs: 30_000, clock: time.clock, timers: time.timers, logger, wanted: () => wantedLeases(config),
    busy: (k): boolean => schedulers.isRunning(k),
  });
  const a = keeperOf('a');
  const fenced: Fence[] = [];
  const deps = { store, clock: time.clock, logger, autodiscover: () => undefined };
  const schedulers: DirectionSchedulers = new DirectionSchedulers([{ runner: incoming.runner, turn: createTurn(incoming.runner, () => current.config, deps) }], {
    current, clock: time.clock, timers: time.timers, logger, overloaded: () => false, leases: a, onFenced: (f) => fenced.push(f),
  });
  a.onChange((c) => schedulers.leasesChanged(c));
  await a.start();
  schedulers.setJobs(config);
  schedulers.start();
  return { time, db, store, incoming, a, keeperOf, schedulers, fenced };
}

describe('DirectionSchedulers under leases', () => {
  it('runs each held mailbox under its fence, and only held ones', async () => {
    const { time, incoming, a, schedulers } = await runnerA();
    await time.advance(200);
    expect([...incoming.running.keys()].sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(incoming.running.get('m1')?.fence).toEqual({ mailboxId: 'm1', direction: 'incoming', runner: 'a', token: 1 });
    expect(a.held()).toHaveLength(4);
    await schedulers.stop();
  });

  it('a lease shed to a new runner aborts its running cycle, releases its session and drops its job', async () => {
    const { time, db, store, incoming, a, keeperOf, schedulers } = await runnerA();
    await time.advance(200);
    const b = keeperOf('b');
    await b.start();
    // a's next round sees two live runners: it keeps two leases and sheds two (running ones, by id).
    await time.advance(10_000);
    expect(a.held().map((k) => k.mailboxId).sort()).toEqual(['m0', 'm1']);
    expect(incoming.released.sort()).toEqual(['m2', 'm3']);
    expect((await store.runs.listRuns('m3'))[0]?.result).toBe('aborted');
    // b claims them on its next round; a never runs them again.
    await time.advance(10_000);
    expect(b.held().map((k) => k.mailboxId).sort()).toEqual(['m2', 'm3']);
    for (const id of ['m0', 'm1']) incoming.running.get(id)?.end();
    await time.advance(2_000);
    expect([...incoming.running.keys()].sort()).toEqual(['m0', 'm1']);
    expect(db.holders().get('incoming/m2')).toBe('b');
    await schedulers.stop();
  });

  it('a write refused by the fence is not the mailbox\'s failure: counted, and the mailbox keeps its retry budget', async () => {
    const { time, store, incoming, schedulers, fenced } = await runnerA();
    await time.advance(200);
    const fence = incoming.running.get('m0')?.fence as Fence;
    incoming.running.get('m0')?.fail(new FencedError(fence));
    await settle();
    expect(fenced).toEqual([fence]);
    const state = await store.runs.getDirectionState('m0', 'incoming');
    expect([state?.consecutiveFailures, state?.disabled, state?.status]).toEqual([0, false, 'not_run']);
    await schedulers.stop();
  });
});
