import { register as globalRegistry, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { openStore, type Store } from '../store/index.js';
import { contractProblems, parseExposition } from './contract.js';
import { FAMILIES } from './families.js';
import { createMetrics, readFleet } from './index.js';
import { seedFailure } from '../../../test/support/seed.js';

const NOW = 1_800_000_000_000;

function configWith(extra = ''): Config {
  return parseConfig(`
organization: { id: acme, retry: { maxTransientRetries: 4 } }
${extra}
profiles:
  - { id: corp, owner: 'Mail "Team"', incoming: { host: imap.example.com }, outgoing: { host: smtp.example.com } }
  - { id: quiet, incoming: { host: imap2.example.com } }
mailboxes:
  - { id: ann, address: ann@example.com, profile: corp, credentials: { username: ann, password: "\${PW}" } }
  - { id: bob, address: bob@example.com, profile: corp, outgoing: true, credentials: { username: bob, password: "\${PW}" } }
  - { id: cat, address: cat@example.com, profile: corp, credentials: { username: cat, password: "\${PW}" } }
`, '/etc/mailsync.yaml', { env: { PW: 'pw' } });
}

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** ann synced 5 messages; bob's password was rejected (disabled); cat has a Test & Enable queued for 20 minutes. */
async function seeded(config: Config, holds?: (mailboxId: string, direction: string) => boolean) {
  const store = await openStore({ path: ':memory:' });
  stores.push(store);
  await store.runs.finishRun(await store.runs.startRun('ann', 'incoming', NOW - 120_000, false), { result: 'success', at: NOW - 60_000, itemsProcessed: 5, itemsFailed: 1 });
  await store.mail.commitBatch({ mailboxId: 'ann', folder: 'INBOX', uidvalidity: 1, lastUid: 9, emails: [], failures: [{ uid: 9, code: 'item_too_large', detail: 'x', size: 1 }], at: NOW });
  await seedFailure(store, {
    mailboxId: 'bob', profileId: 'corp', direction: 'incoming', startedAt: NOW - 30_000, at: NOW - 30_000, code: 'credentials_rejected', message: 'no',
    class: 'permanent', scope: 'mailbox', disable: true, nextAttemptAt: null,
  });
  await store.lifecycle.requestTest('cat', 'oncall', false, NOW - 20 * 60_000);
  await store.outgoing.queue({ mailboxId: 'bob', messageId: '<1@x>', envelopeFrom: 'bob@example.com', recipients: ['a@x.example'], subject: 's', raw: Buffer.from('x'), at: NOW - 90_000, by: 't' });
  const metrics = createMetrics(new Registry(), {
    inFlight: () => 2, queueDepth: () => 0, mailboxes: () => config.mailboxes.length,
    retryBudget: () => config.organization.retry.maxTransientRetries,
    fleet: () => readFleet(store, config, NOW),
    webhooks: { webhooks: () => ['crm'], outbox: () => store.feed.outboxStats(), now: () => NOW },
    leases: { runner: 'r1', held: () => 1, holds: holds ?? (() => true), unleased: async () => new Map([['incoming', 0], ['outgoing', 1], ['act', 0]]) },
  });
  metrics.webhooks.configured(['crm']);
  return { store, metrics };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('/metrics exposition', () => {
  it('serves each mailbox\'s state from the store', async () => {
    const config = configWith();
    const text = await (await seeded(config)).metrics.scrape();
    expect(lines(text)).toEqual(expect.arrayContaining([
      'mailsync_mailbox_info{mailbox="ann",profile="corp",address="ann@example.com"} 1',
      'mailsync_mailbox_health{mailbox="ann",health="healthy"} 1',
      'mailsync_mailbox_health{mailbox="bob",health="failing"} 1',
      'mailsync_mailbox_health{mailbox="cat",health="testing"} 1',
      'mailsync_mailbox_enabled{mailbox="ann",direction="incoming"} 1',
      'mailsync_mailbox_enabled{mailbox="bob",direction="incoming"} 0',
      'mailsync_mailbox_enabled{mailbox="bob",direction="outgoing"} 1',
      'mailsync_mailbox_disabled{mailbox="bob",direction="incoming",code="credentials_rejected"} 1',
      'mailsync_mailbox_consecutive_failures{mailbox="bob",direction="incoming"} 1',
      'mailsync_mailbox_last_success_timestamp_seconds{mailbox="ann",direction="incoming"} 1799999940',
      'mailsync_mailbox_last_error_timestamp_seconds{mailbox="bob",direction="incoming",code="credentials_rejected",class="permanent",scope="mailbox"} 1799999970',
      'mailsync_mailbox_test_started_timestamp_seconds{mailbox="cat"} 1799998800',
      'mailsync_mailbox_sync_runs_total{mailbox="ann",direction="incoming",result="success"} 1',
      'mailsync_mailbox_sync_runs_total{mailbox="ann",direction="incoming",result="failure"} 0',
      'mailsync_mailbox_sync_errors_total{mailbox="bob",direction="incoming",class="permanent",scope="mailbox",code="credentials_rejected"} 1',
      'mailsync_mailbox_items_processed_total{mailbox="ann",direction="incoming"} 5',
      'mailsync_mailbox_items_failed_total{mailbox="ann",direction="incoming",code="item_too_large"} 1',
      'mailsync_profile_info{profile="corp",owner="Mail \\"Team\\"",protocol="imap"} 1',
      'mailsync_mailbox_pending_send_emails{mailbox="bob"} 1',
      'mailsync_mailbox_pending_send_oldest_age_seconds{mailbox="bob"} 90',
      'mailsync_profile_pending_send_emails{profile="corp"} 1',
      'mailsync_profile_mailboxes{profile="corp",health="healthy"} 1',
      'mailsync_profile_mailboxes{profile="corp",health="failing"} 1',
      'mailsync_profile_mailboxes{profile="corp",health="testing"} 1',
      'mailsync_profile_mailboxes{profile="quiet",health="healthy"} 0',
      'mailsync_profile_mailboxes_recently_failed{profile="corp"} 1',
      'mailsync_profile_mailboxes_testing_long{profile="corp"} 1',
      'mailsync_scheduler_in_flight 2',
      'mailsync_mailboxes_configured 3',
      'mailsync_config_max_transient_retries 4',
    ]));
    // Series that must not exist: no disabled series for healthy mailboxes, no aborted runs yet.
    expect(text).not.toMatch(/mailsync_mailbox_disabled\{mailbox="ann"/);
    expect(text).not.toContain('result="aborted"');
    expect(text).not.toContain('mailsync_mailbox_last_success_timestamp_seconds{mailbox="bob"');
    // ann has no outgoing and nothing queued: no Pending Send series.
    expect(text).not.toContain('mailsync_mailbox_pending_send_emails{mailbox="ann"}');
  });

  it('B: writes per-mailbox series only for the mailbox directions this runner holds, and the lease families', async () => {
    // This runner holds ann's incoming and bob's outgoing; another runner holds bob's incoming and cat.
    const held = new Set(['ann/incoming', 'bob/outgoing']);
    const text = await (await seeded(configWith(), (id, d) => held.has(`${id}/${d}`))).metrics.scrape();
    expect(text).toContain('mailsync_mailbox_info{mailbox="ann"');
    expect(text).toContain('mailsync_mailbox_enabled{mailbox="bob",direction="outgoing"} 1');
    // bob's mailbox-wide series and his incoming failure are the incoming holder's to write.
    expect(text).not.toContain('mailsync_mailbox_enabled{mailbox="bob",direction="incoming"}');
    expect(text).not.toContain('mailsync_mailbox_info{mailbox="bob"');
    expect(text).not.toContain('mailsync_mailbox_pending_send_emails{mailbox="bob"}');
    expect(text).not.toContain('mailbox="cat"');
    expect(text).toContain('mailsync_runner_info{runner="r1"} 1');
    expect(text).toContain('mailsync_mailboxes_unleased{direction="outgoing"} 1');
    expect(text).toContain('mailsync_lease_fencing_refusals_total{direction="incoming"} 0');
  });

  it('keeps the profile aggregates and drops every mailbox series when perMailboxSeries is off', async () => {
    const config = configWith('metrics: { perMailboxSeries: false }');
    const text = await (await seeded(config)).metrics.scrape();
    expect(text).not.toContain('mailsync_mailbox_');
    expect(text).not.toContain('ann@example.com');
    expect(text).toContain('mailsync_profile_mailboxes{profile="corp",health="failing"} 1');
  });

  it('still serves the rest, and counts a store error, when the store cannot be read', async () => {
    const config = configWith();
    const { store, metrics } = await seeded(config);
    await store.close();
    const text = await metrics.scrape();
    expect(text).toContain('mailsync_store_errors_total 1');
    expect(text).toContain('mailsync_build_info{');
    expect(text).not.toContain('mailsync_mailbox_info');
    // The per-profile families are declared but without samples: no stale counts from an earlier scrape.
    expect(text).not.toContain('mailsync_profile_mailboxes{');
  });

  it('reads the store once per scrape, for the per-mailbox text and the per-profile families alike', async () => {
    const { store, metrics } = await seeded(configWith());
    const reads = vi.spyOn(store.runs, 'scrapeRows');
    const queues = vi.spyOn(store.outgoing, 'queueStats');
    await metrics.scrape();
    expect([reads.mock.calls.length, queues.mock.calls.length]).toEqual([1, 1]);
  });

  it('serves every family of the table once, each sample with exactly the table\'s labels', async () => {
    const { metrics } = await seeded(configWith());
    // One success and one failure, so the activity families have samples whose labels are checked.
    metrics.observeCycle({ mailbox: 'ann', direction: 'incoming', result: 'success', itemsProcessed: 3, itemsFailed: 1, stored: 2, failedByCode: { item_too_large: 1 }, durationSeconds: 0.2, folders: [{
      folder: 'INBOX', uidValidity: 1, uidValidityChanged: false, unchanged: false, fetched: 3, inserted: 2, alreadyStored: 0, failed: 1,
      failedByCode: { item_too_large: 1 }, lastUid: 3, lagSeconds: [0.8, 1.4],
    }] }, 'corp', true);
    metrics.observeCycle({ mailbox: 'bob', direction: 'incoming', result: 'failure', durationSeconds: 0.1, code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', message: 'no', disabled: true, nextAttemptAt: null, consecutiveFailures: 1 }, 'corp', false);
    metrics.configLoaded(true, NOW);
    const text = await metrics.scrape();
    expect(contractProblems(text)).toEqual([]);
    const { types, samples } = parseExposition(text);
    const sampled = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    // Declared always, but with samples only while there are some: no libuv request in flight,
    // no garbage collection yet.
    const comeAndGo = ['nodejs_active_requests', 'nodejs_gc_duration_seconds'];
    expect(FAMILIES.filter((f) => !types.some((t) => t.name === f.name) || (!sampled.has(f.name) && !comeAndGo.includes(f.name))).map((f) => f.name)).toEqual([]);
  });

  it('serves the same samples in OpenMetrics, counters named without _total, ended by # EOF', async () => {
    const { metrics } = await seeded(configWith());
    metrics.observeCycle({ mailbox: 'ann', direction: 'incoming', result: 'success', itemsProcessed: 3, itemsFailed: 0, stored: 2, failedByCode: {}, durationSeconds: 0.2, folders: [] }, 'corp', false);
    const om = await metrics.scrape('openmetrics');
    expect(om.endsWith('\n# EOF\n')).toBe(true);
    expect(om.split('# EOF').length).toBe(2);
    expect(om).not.toContain('\n\n');
    expect(contractProblems(om)).toEqual([]);
    // A prom-client counter and a per-mailbox text counter alike.
    for (const name of ['mailsync_sync_runs', 'mailsync_mailbox_sync_runs', 'process_cpu_seconds']) {
      expect(om).toContain(`\n# TYPE ${name} counter\n`);
      expect(om).toMatch(new RegExp(`\n${name}_total(\\{|\\s)`));
    }
    const text = await metrics.scrape('prometheus');
    const series = (t: string) => parseExposition(t).samples.map((x) => `${x.name}{${x.labels.join(',')}}`).sort();
    expect(series(om)).toEqual(series(text));
  });

  it('keeps counters\' _total in the text format after an OpenMetrics scrape, also when both run at once', async () => {
    const { metrics } = await seeded(configWith());
    const [om, text] = await Promise.all([metrics.scrape('openmetrics'), metrics.scrape('prometheus')]);
    const again = await metrics.scrape('prometheus');
    for (const t of [text, again]) {
      expect(t).toContain('\n# TYPE mailsync_store_errors_total counter\n');
      expect(t).toContain('\n# TYPE process_cpu_seconds_total counter\n');
      expect(contractProblems(t)).toEqual([]);
    }
    expect(om).toContain('\n# TYPE mailsync_store_errors counter\nmailsync_store_errors_total 0\n');
  });

  it('registers the process metrics on the registry it is given, not prom-client\'s global one', async () => {
    const { metrics } = await seeded(configWith());
    expect(await metrics.scrape()).toContain('\nprocess_resident_memory_bytes ');
    expect(globalRegistry.getMetricsAsArray()).toEqual([]);
  });

  it('keeps the contract when the store cannot be read', async () => {
    const { store, metrics } = await seeded(configWith());
    await store.close();
    expect(contractProblems(await metrics.scrape())).toEqual([]);
  });
});
