import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearlyWithinLimits } from '../../exporter/src/policy/limits.js';
import { fenceContext, FencedError, openStore, type Fence, type Store } from '../../exporter/src/store/index.js';
import { OutgoingClaimError } from '../../exporter/src/store/postgres/outgoing.js';
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';

// Issue 16: the outgoing queue and a profile's sending limits with several runners on one database.

let pg: Postgres;
let databases = 0;
beforeAll(async () => {
  pg = await Postgres.start();
}, 60_000);
afterAll(async () => {
  await pg.destroy();
});

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** Two runners' stores on a fresh database, with mailboxes m1, m2 of profile p and m3 of profile q. */
async function twoRunners(): Promise<{ a: Store; b: Store; name: string }> {
  const name = `o${++databases}`;
  const url = await pg.createDatabase(name);
  const [a, b] = await Promise.all(['a', 'b'].map((runner) => openStore({ driver: 'postgresql', path: 'unused', postgresql: { url }, runner })));
  opened.push(a!, b!);
  for (const [id, profile] of [['m1', 'p'], ['m2', 'p'], ['m3', 'q']]) {
    await a!.definitions.create({ kind: 'mailbox', id: id!, body: { id, profile }, changedBy: 'test', changedAt: 1 });
  }
  return { a: a!, b: b!, name };
}

const NOW = 1_700_000_000_000;
let queued = 0;
const queue = (s: Store, mailboxId: string, recipients = ['r@remote.example']) => s.outgoing.queue({
  mailboxId, messageId: `<${++queued}@lab.example>`, envelopeFrom: `${mailboxId}@lab.example`, recipients, subject: null, raw: Buffer.from('x'), at: NOW, by: 'op',
});

/** The outgoing lease of `mailboxId` for `runner`, as the keeper would hold it: the fence its cycle runs under. */
async function leaseOf(s: Store, runner: string, mailboxId: string): Promise<Fence> {
  const [lease] = await s.leases.claim(runner, [{ mailboxId, direction: 'outgoing' }], 1, 60_000);
  return { mailboxId, direction: 'outgoing', runner, token: (lease as { token: number }).token };
}

describe('claiming an outgoing email under a lease', () => {
  it('refuses a claim another runner made first as a lost lease (FencedError), keeping nothing', async () => {
    const { a, b } = await twoRunners();
    const id = await queue(a, 'm1');
    const fence = await leaseOf(a, 'a', 'm1');
    // Another runner's claim, made while it held the lease (here: outside any fence).
    await b.outgoing.markSending(id, NOW + 1);
    const refused = fenceContext.run(fence, () => a.outgoing.markSending(id, NOW + 2));
    await expect(refused).rejects.toBeInstanceOf(FencedError);
    await expect(refused).rejects.toBeInstanceOf(OutgoingClaimError);
    await expect(refused).rejects.toThrow(`outgoing email ${id} was claimed by another runner: lease lost: m1 outgoing is no longer held by runner a (token ${fence.token})`);
    expect(await a.outgoing.get(id)).toMatchObject({ state: 'sending', attempts: 1 });
    expect((await a.outgoing.history(id)).map((h) => h.state)).toEqual(['pending_send', 'sending']);
  });
});

describe('an email queued on another runner', () => {
  it('is announced to every runner sharing the store once committed, so the lease holder sends it at once', async () => {
    const { a, b } = await twoRunners();
    const heard: string[] = [];
    const unsubscribe = b.onOutgoingQueued((mailboxId) => heard.push(mailboxId));
    // Not before the commit: the holder would find nothing to send.
    let inside = -1;
    await a.transaction(async (tx) => {
      await tx.outgoing.queue({ mailboxId: 'm2', messageId: '<q@lab.example>', envelopeFrom: 'm2@lab.example', recipients: ['r@remote.example'], subject: null, raw: Buffer.from('x'), at: NOW, by: 'op' });
      await tx.outgoing.get(1);
      inside = heard.length;
    });
    await queue(a, 'm3');
    await waitFor(() => heard.length, { what: 'both queued emails heard on runner b', until: (n) => n === 2 });
    expect(inside).toBe(0);
    expect(heard).toEqual(['m2', 'm3']);
    unsubscribe();
  });
});

describe("a profile's sending limits across runners", () => {
  it("counts the profile's sends in flight on other mailboxes (any runner), not the asking mailbox's own, nor other profiles'", async () => {
    const { a, b } = await twoRunners();
    const own = await queue(a, 'm1', ['x@remote.example']);
    const other = await queue(b, 'm2', ['x@remote.example', 'y@remote.example']);
    const elsewhere = await queue(b, 'm3');
    for (const id of [own, other, elsewhere]) await b.outgoing.markSending(id, NOW + 1);
    const fence = await leaseOf(a, 'a', 'm1');
    const asked = (s: Store) => fenceContext.run(fence, () => s.transaction((tx) => tx.outgoing.sendTotals('p', NOW + 2)));
    // m1's own email in flight is its cycle's to count; m2's is not in the send log yet but counts.
    expect(await asked(a)).toEqual({ messagesLastMinute: 1, recipientsLastDay: 2 });
    expect(await fenceContext.run(fence, () => a.outgoing.sendsSince('p', NOW - 1))).toEqual([{ at: NOW + 1, recipients: 2 }]);
    // Sent: it moves from in flight to the log, counted once.
    await b.outgoing.markSent(other, NOW + 3, '250 ok', 'p', 2);
    expect(await asked(a)).toEqual({ messagesLastMinute: 1, recipientsLastDay: 2 });
    expect(await a.outgoing.sendsSince('p', NOW - 1)).toEqual([{ at: NOW + 1, recipients: 1 }, { at: NOW + 3, recipients: 2 }]);
  });

  it('two runners racing on one limit: the second claim waits for the first and sees it, so the limit holds', async () => {
    const { a, b, name } = await twoRunners();
    const limits = { messagesPerMinute: 1, recipientsPerDay: undefined };
    const emails = { a: await queue(a, 'm1'), b: await queue(b, 'm2') };
    const fences = { a: await leaseOf(a, 'a', 'm1'), b: await leaseOf(b, 'b', 'm2') };
    const read = { a: false, b: false };
    // Some claim transaction waits for the profile's lock (the other holds it).
    const waiting = async () => (await pg.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1`, [name], 'postgres'))[0]?.n === 1;
    /** The cycle's claim: read the totals, decide, mark sending, in one transaction, as outgoing/cycle.ts does. */
    const claim = (runner: 'a' | 'b', store: Store, other: 'a' | 'b') => fenceContext.run(fences[runner], () => store.transaction(async (tx) => {
      const totals = await tx.outgoing.sendTotals('p', NOW);
      read[runner] = true;
      // Without the lock both would read 0 here and both claim: wait until the other has read too,
      // or is held back by this transaction's lock.
      await waitFor(async () => read[other] || await waiting(), { what: `runner ${other} reading the limits or waiting for the lock` });
      if (!clearlyWithinLimits(totals, 1, limits)) return false;
      await tx.outgoing.markSending(emails[runner], NOW);
      return true;
    }));
    const claimed = await Promise.all([claim('a', a, 'b'), claim('b', b, 'a')]);
    expect(claimed.filter(Boolean)).toHaveLength(1);
    const states = await Promise.all([a.outgoing.get(emails.a), a.outgoing.get(emails.b)]);
    expect(states.map((e) => e?.state).sort()).toEqual(['pending_send', 'sending']);
  });
});
