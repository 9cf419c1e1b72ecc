import type { Registry } from 'prom-client';
import { HEALTH_BUCKETS, isLongTestEnable, type Health } from '../policy/health.js';
import { SCRAPE_COLUMNS as C } from '../store/index.js';
import type { Fleet, FleetInput } from './fleet.js';
import { gauge } from './prom.js';

/** What the per-profile families show, per configured profile (every profile present, zeros included). */
export interface ProfileAggregates {
  info: { profile: string; owner: string; protocol: string }[];
  mailboxes: Map<string, Record<Health, number>>;
  recentlyFailed: Map<string, number>;
  pendingSend: Map<string, number>;
  testingLong: Map<string, number>;
}

/** Counts the fleet per profile: pure, from the same store read as the per-mailbox text. */
export function profileAggregates(fleet: Fleet, { config, now, queue }: FleetInput): ProfileAggregates {
  const windowMs = config.metrics.intermittentWindowSeconds * 1_000;
  const longMs = config.metrics.longTestEnableSeconds * 1_000;
  const zeros = () => new Map(config.profiles.map((p) => [p.id, 0]));
  const a: ProfileAggregates = {
    info: config.profiles.map((p) => ({ profile: p.id, owner: p.owner ?? '', protocol: p.incoming.protocol })),
    mailboxes: new Map(config.profiles.map((p) => [p.id, Object.fromEntries(HEALTH_BUCKETS.map((h) => [h, 0])) as Record<Health, number>])),
    recentlyFailed: zeros(),
    pendingSend: zeros(),
    testingLong: zeros(),
  };
  // Only configured profiles count (the config check rejects a mailbox naming another one).
  const bump = (map: Map<string, number>, profile: string, n = 1) => {
    const v = map.get(profile);
    if (v !== undefined) map.set(profile, v + n);
  };
  for (const m of fleet.mailboxes) {
    const profile = m.mailbox.profile;
    const c = a.mailboxes.get(profile);
    if (!c) continue;
    c[m.health] += 1;
    if (m.entries.some((e) => e.row?.[C.lastFailureAt] != null && now - (e.row[C.lastFailureAt] as number) < windowMs)) bump(a.recentlyFailed, profile);
    const test = fleet.tests.get(m.mailbox.id);
    if (test && isLongTestEnable(test, now, longMs)) bump(a.testingLong, profile);
  }
  const profileOf = new Map(fleet.mailboxes.map((m) => [m.mailbox.id, m.mailbox.profile]));
  for (const q of queue) {
    const p = profileOf.get(q.mailboxId);
    if (p !== undefined) bump(a.pendingSend, p, q.emails);
  }
  return a;
}

/**
 * Registers the per-profile families. Their `collect()` reads the aggregates of the scrape in
 * progress (`current`); none (the store could not be read) leaves them without samples.
 */
export function registerProfileFamilies(registry: Registry, current: () => ProfileAggregates | undefined): void {
  gauge(registry, 'mailsync_profile_info', function () {
    this.reset();
    for (const p of current()?.info ?? []) this.set(p, 1);
  });
  gauge(registry, 'mailsync_profile_mailboxes', function () {
    this.reset();
    for (const [profile, c] of current()?.mailboxes ?? []) for (const health of HEALTH_BUCKETS) this.set({ profile, health }, c[health]);
  });
  const perProfile = (name: 'mailsync_profile_mailboxes_recently_failed' | 'mailsync_profile_pending_send_emails' | 'mailsync_profile_mailboxes_testing_long',
    pick: (a: ProfileAggregates) => Map<string, number>) => gauge(registry, name, function () {
    this.reset();
    const a = current();
    if (a) for (const [profile, n] of pick(a)) this.set({ profile }, n);
  });
  perProfile('mailsync_profile_mailboxes_recently_failed', (a) => a.recentlyFailed);
  perProfile('mailsync_profile_pending_send_emails', (a) => a.pendingSend);
  perProfile('mailsync_profile_mailboxes_testing_long', (a) => a.testingLong);
}
