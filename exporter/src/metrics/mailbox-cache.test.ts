import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { openStore, type Direction, type Store } from '../store/index.js';
import { seedFailure } from '../../../test/support/seed.js';
import { assemble, readFleet } from './fleet.js';
import type { ExpositionFormat } from './format.js';
import { MailboxTextCache, renderMailboxes } from './mailbox-cache.js';

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

function configWith(mailboxes: string): Config {
  return parseConfig(`
organization: { id: acme }
profiles:
  - { id: corp, incoming: { host: imap.example.com }, outgoing: { host: smtp.example.com }, act: {} }
mailboxes:
${mailboxes}
`, '/etc/mailsync.yaml', { env: { PW: 'pw' } });
}

const FLEET = ['ann', 'bob', 'cat', 'dan'].map((id) =>
  `  - { id: ${id}, address: ${id}@example.com, profile: corp, outgoing: true, credentials: { username: ${id}, password: "\${PW}" } }`).join('\n');

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/**
 * One runner's scrapes over a real store: every scrape through the kept cache is compared with
 * writing everything anew from the same read, in both formats.
 */
async function fleetUnderTest() {
  const store = await openStore({ path: ':memory:' });
  stores.push(store);
  const state = { config: configWith(FLEET), now: NOW, held: undefined as Set<string> | undefined };
  const holds = (id: string, d: Direction) => !state.held || state.held.has(`${id}/${d}`);
  const caches = { prometheus: new MailboxTextCache(), openmetrics: new MailboxTextCache() };
  /** Scrapes once; returns how many mailboxes the cache wrote anew, after checking it equals a full render. */
  const scrape = async (format: ExpositionFormat = 'prometheus'): Promise<number> => {
    const input = await readFleet(store, state.config, state.now);
    const fleet = assemble(input);
    const kept = await caches[format].render(fleet, input, format, holds);
    const full = await renderMailboxes(assemble(input), input, format, holds);
    expect(Buffer.concat(kept.chunks).toString()).toBe(Buffer.concat(full.chunks).toString());
    expect(kept.series).toBe(full.series);
    return kept.written;
  };
  const both = async () => [await scrape('prometheus'), await scrape('openmetrics')];
  const ok = async (id: string, at: number, retry = false, items = 3) =>
    store.runs.finishRun(await store.runs.startRun(id, 'incoming', at - 1_000, retry), { result: 'success', at, itemsProcessed: items, itemsFailed: 0 });
  return { store, state, scrape, both, ok };
}

describe('kept per-mailbox text', () => {
  it('shows every change of a mailbox\'s state in the next scrape exactly as writing it all anew would', async () => {
    const { store, state, scrape, both, ok } = await fleetUnderTest();
    expect(await both()).toEqual([4, 4]);
    expect(await both()).toEqual([0, 0]);

    await ok('ann', NOW - MINUTE); // a run that succeeded
    expect(await both()).toEqual([1, 1]);

    await seedFailure(store, { mailboxId: 'bob', profileId: 'corp', at: NOW - 2 * MINUTE, code: 'connect_failed', class: 'transient', scope: 'mailbox', disable: false, nextAttemptAt: NOW + MINUTE });
    expect(await scrape()).toBe(1); // a failure, retried later
    await ok('bob', NOW - MINUTE, true); // the retry that succeeded
    expect(await scrape()).toBe(1);

    await seedFailure(store, { mailboxId: 'cat', profileId: 'corp', at: NOW - MINUTE, code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', disable: true });
    expect(await scrape()).toBe(1); // disabled by the system
    await store.lifecycle.enable('cat', 'incoming', NOW);
    expect(await scrape()).toBe(1); // enabled again
    await store.lifecycle.disable('cat', 'outgoing', { code: null, reason: 'paused', by: 'op', at: NOW });
    expect(await scrape()).toBe(1); // disabled by an operator

    await store.lifecycle.requestTest('dan', 'op', false, NOW - 5 * MINUTE);
    expect(await scrape()).toBe(1); // Test & Enable scheduled
    await store.lifecycle.setTestState('dan', 'running', NOW);
    expect(await scrape()).toBe(0); // running: the same series (health testing, the same start)
    await store.lifecycle.setTestState('dan', 'completed', NOW);
    expect(await scrape()).toBe(1); // over

    await store.mail.commitBatch({ mailboxId: 'ann', folder: 'INBOX', uidvalidity: 1, lastUid: 5, emails: [], failures: [{ uid: 5, code: 'item_too_large', detail: 'x', size: 1 }], at: NOW });
    expect(await scrape()).toBe(1); // an item that failed
    await store.outgoing.queue({ mailboxId: 'dan', messageId: '<1@x>', envelopeFrom: 'dan@example.com', recipients: ['a@x.example'], subject: 's', raw: Buffer.from('x'), at: NOW - MINUTE, by: 't' });
    expect(await scrape()).toBe(1); // an email waiting to be sent

    // Time alone: the queued email's age (written at every scrape), bob's and cat's failures
    // leaving the intermittent window (an hour): their health changes with nothing written to the store.
    state.now += 61 * MINUTE;
    expect(await scrape()).toBe(2);
    expect(await scrape('openmetrics')).toBe(4); // this cache last scraped before ann, bob, cat and dan changed
  });

  it('follows the leases: a mailbox direction gained or lost by this runner, its mailbox-wide series with its lead direction', async () => {
    const { state, scrape, ok } = await fleetUnderTest();
    await ok('ann', NOW - MINUTE);
    state.held = new Set(['ann/incoming', 'ann/outgoing', 'bob/incoming', 'bob/outgoing', 'cat/outgoing']);
    expect(await scrape()).toBe(3);
    expect(await scrape()).toBe(0);
    state.held.delete('bob/incoming'); // another runner took bob's lead direction: only bob's outgoing stays here
    expect(await scrape()).toBe(1);
    state.held.add('dan/incoming'); // a lease gained
    expect(await scrape()).toBe(1);
    state.held.delete('cat/outgoing'); // cat has nothing here any more
    expect(await scrape()).toBe(0);
    state.held = undefined; // the only runner again
    expect(await scrape()).toBe(3);
  });

  it('follows the config: a mailbox deleted, one added, one whose address changed', async () => {
    const { state, scrape, both, ok } = await fleetUnderTest();
    await ok('bob', NOW - MINUTE);
    expect(await scrape()).toBe(4);
    state.config = configWith(FLEET.replace(/.*id: bob.*\n/, '')); // bob deleted (his rows stay in the store)
    expect(await scrape()).toBe(0);
    state.config = configWith(FLEET.replace('cat@example.com', 'cat@example.org'));
    expect(await scrape()).toBe(2); // bob is back (written anew: he was forgotten), cat's address changed
    state.config = configWith(`${FLEET}\n  - { id: eve, address: eve@example.com, profile: corp, act: true, credentials: { username: eve, password: "\${PW}" } }`);
    expect(await both()).toEqual([2, 5]); // eve added, cat's address back; the OpenMetrics cache had not scraped yet
  });
});
