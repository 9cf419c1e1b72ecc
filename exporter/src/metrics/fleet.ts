import type { Config, Mailbox } from '../config/index.js';
import { DIRECTIONS } from '@mailsync/contract';
import { HEALTH_BUCKETS, healthOf, isLongTestEnable, type Health, type HealthDirection } from '../policy/health.js';
import { SCRAPE_COLUMNS as C, type ScrapeRow, type Store, type TestState } from '../store/index.js';
import { escapeLabel, labels, TextWriter } from './exposition.js';

export interface FleetInput {
  /** Every mailbox direction's state (positional rows: see ScrapeRow). */
  rows: ScrapeRow[];
  /** Mailboxes with Test & Enable scheduled or running. */
  tests: { mailboxId: string; state: TestState; requestedAt: number | null }[];
  /** Failures per mailbox, direction and code (the mailbox alert records: they survive restarts). */
  errors: { mailboxId: string; direction: string; code: string; class: string; scope: string; count: number }[];
  itemFailures: { mailboxId: string; direction: string; code: string; count: number }[];
  /** Pending Send per mailbox: emails not sent yet and when the oldest was queued. */
  queue: { mailboxId: string; emails: number; oldestQueuedAt: number }[];
  config: Pick<Config, 'profiles' | 'mailboxes' | 'metrics'>;
  now: number;
}

/** A configured direction of a mailbox, with its label prefix escaped once for every family. */
interface Entry {
  labels: string;
  row: ScrapeRow | undefined;
}

interface Fleet {
  mailboxes: { mailbox: Mailbox; labels: string; health: Health; entries: Entry[] }[];
  tests: Map<string, { state: TestState; requestedAt: number | null }>;
}

const seconds = (ms: number) => ms / 1_000;

/** Everything a scrape reads from the store: five queries. */
export async function readFleet(store: Store, config: FleetInput['config'], now: number): Promise<FleetInput> {
  return {
    rows: await store.runs.scrapeRows(),
    tests: await store.lifecycle.activeTests(),
    errors: await store.lifecycle.mailboxErrorCounts(),
    itemFailures: await store.mail.itemFailureCounts(),
    queue: await store.outgoing.queueStats(),
    config,
    now,
  };
}

/**
 * The state families, read from the store at scrape time (docs/metrics.md describes each).
 * Per-mailbox families only when `metrics.perMailboxSeries` is on; per-profile aggregates always.
 * Written straight from the store's rows: this runs on every scrape for every mailbox.
 */
export function renderFleet(input: FleetInput): { text: string; series: number } {
  const fleet = assemble(input);
  const w = new TextWriter();
  if (input.config.metrics.perMailboxSeries) {
    perMailbox(w, fleet, input);
    pendingSend(w, fleet, input);
  }
  perProfile(w, fleet, input);
  return { text: w.toString(), series: w.series };
}

function assemble({ rows, tests, config, now }: FleetInput): Fleet {
  const byMailbox = new Map<string, ScrapeRow[]>();
  for (const r of rows) {
    const list = byMailbox.get(r[C.mailboxId]);
    if (list) list.push(r);
    else byMailbox.set(r[C.mailboxId], [r]);
  }
  const testMap = new Map(tests.map((t) => [t.mailboxId, t]));
  const windowMs = config.metrics.intermittentWindowSeconds * 1_000;
  const mailboxes = config.mailboxes.map((mailbox) => {
    const own = byMailbox.get(mailbox.id) ?? [];
    const prefix = `mailbox="${escapeLabel(mailbox.id)}"`;
    const entries: Entry[] = [];
    const health: HealthDirection[] = [];
    for (const d of DIRECTIONS) {
      if (!mailbox[d]) continue;
      const row = own.find((r) => r[C.direction] === d);
      entries.push({ labels: `${prefix},direction="${d}"`, row });
      health.push({
        configured: true,
        status: row?.[C.status] ?? 'not_run',
        disabled: row?.[C.disabled] === 1,
        disabledCode: row?.[C.disabledCode] ?? null,
        consecutiveFailures: row?.[C.consecutiveFailures] ?? 0,
        lastFailureAt: row?.[C.lastFailureAt] ?? null,
      });
    }
    const test = testMap.get(mailbox.id);
    return { mailbox, labels: prefix, entries, health: healthOf({ testState: test?.state ?? 'none', directions: health }, now, windowMs) };
  });
  return { mailboxes, tests: testMap };
}

function perMailbox(w: TextWriter, fleet: Fleet, { errors, itemFailures }: FleetInput): void {
  const each = (fn: (e: Entry, row: ScrapeRow | undefined) => void) => {
    for (const m of fleet.mailboxes) for (const e of m.entries) fn(e, e.row);
  };

  let name = 'mailsync_mailbox_info';
  w.family(name, 'gauge', 'Always 1: the profile and address of each configured mailbox (the only series with the address).');
  for (const m of fleet.mailboxes) w.sample(name, `${m.labels},${labels({ profile: m.mailbox.profile, address: m.mailbox.address })}`, 1);

  name = 'mailsync_mailbox_health';
  w.family(name, 'gauge', 'Always 1, on the mailbox\'s current health bucket: healthy, failing, intermittent, inactive or testing.');
  for (const m of fleet.mailboxes) w.sample(name, `${m.labels},health="${m.health}"`, 1);

  name = 'mailsync_mailbox_enabled';
  w.family(name, 'gauge', '1 when a configured direction is enabled, 0 when the system or an operator disabled it.');
  each((e, r) => w.sample(name, e.labels, r?.[C.disabled] === 1 ? 0 : 1));

  name = 'mailsync_mailbox_disabled';
  w.family(name, 'gauge', 'Present (1) while the system keeps a direction disabled, with the taxonomy code of the failure.');
  each((e, r) => {
    const code = r?.[C.disabled] === 1 ? r[C.disabledCode] : null;
    if (code) w.sample(name, `${e.labels},code="${escapeLabel(code)}"`, 1);
  });

  name = 'mailsync_mailbox_consecutive_failures';
  w.family(name, 'gauge', 'Failed runs in a row (reset by a success or Test & Enable); the 11th transient one disables by default.');
  each((e, r) => w.sample(name, e.labels, r?.[C.consecutiveFailures] ?? 0));

  name = 'mailsync_mailbox_last_success_timestamp_seconds';
  w.family(name, 'gauge', 'When the last successful run of a direction ended (absent until one succeeds).');
  each((e, r) => {
    const at = r?.[C.lastSuccessAt];
    if (at != null) w.sample(name, e.labels, seconds(at));
  });

  name = 'mailsync_mailbox_last_error_timestamp_seconds';
  w.family(name, 'gauge', 'When the last failure of a direction happened, with its code, class and scope (absent until one fails).');
  each((e, r) => {
    const at = r?.[C.lastFailureAt];
    const code = r?.[C.lastErrorCode];
    if (at == null || !code || !r) return;
    w.sample(name, `${e.labels},${labels({ code, class: r[C.lastErrorClass] ?? 'transient', scope: r[C.lastErrorScope] ?? 'mailbox' })}`, seconds(at));
  });

  name = 'mailsync_mailbox_test_started_timestamp_seconds';
  w.family(name, 'gauge', 'While Test & Enable is scheduled or running: when it was requested.');
  for (const m of fleet.mailboxes) {
    const at = fleet.tests.get(m.mailbox.id)?.requestedAt;
    if (at != null) w.sample(name, m.labels, seconds(at));
  }

  name = 'mailsync_mailbox_sync_runs_total';
  w.family(name, 'counter', 'Finished runs of a direction by result (success, failure; aborted once any). Kept in the store: survives restarts.');
  each((e, r) => {
    w.sample(name, `${e.labels},result="success"`, r?.[C.runsSuccess] ?? 0);
    w.sample(name, `${e.labels},result="failure"`, r?.[C.runsFailure] ?? 0);
    if ((r?.[C.runsAborted] ?? 0) > 0) w.sample(name, `${e.labels},result="aborted"`, r?.[C.runsAborted] as number);
  });

  name = 'mailsync_mailbox_sync_retries_total';
  w.family(name, 'counter', 'Runs started after a failed one: the attempts the retry policy made. Survives restarts.');
  each((e, r) => w.sample(name, e.labels, r?.[C.retries] ?? 0));

  name = 'mailsync_mailbox_items_processed_total';
  w.family(name, 'counter', 'Messages handled by the runs of a direction (stored, already stored, or failed as an item). Survives restarts.');
  each((e, r) => w.sample(name, e.labels, r?.[C.itemsProcessed] ?? 0));

  const known = new Map(fleet.mailboxes.map((m) => [m.mailbox.id, m.labels]));
  name = 'mailsync_mailbox_sync_errors_total';
  w.family(name, 'counter', 'Failures recorded against a mailbox by direction, class, scope and code (runs and Test & Enable). Survives restarts.');
  for (const e of errors) {
    const l = known.get(e.mailboxId);
    if (l) w.sample(name, `${l},${labels({ direction: e.direction, class: e.class, scope: e.scope, code: e.code })}`, e.count);
  }

  name = 'mailsync_mailbox_items_failed_total';
  w.family(name, 'counter', 'Item-level failures of a mailbox by direction and code (one email failed, the mailbox kept going). Survives restarts.');
  for (const f of itemFailures) {
    const l = known.get(f.mailboxId);
    if (l) w.sample(name, `${l},${labels({ direction: f.direction, code: f.code })}`, f.count);
  }
}

function pendingSend(w: TextWriter, fleet: Fleet, { queue, now }: FleetInput): void {
  const byMailbox = new Map(queue.map((q) => [q.mailboxId, q]));
  let name = 'mailsync_mailbox_pending_send_emails';
  w.family(name, 'gauge', 'Emails queued from a mailbox and not sent yet (Pending Send, sending or postponed); present for mailboxes configured for outgoing or with a queue.');
  for (const m of fleet.mailboxes) {
    const q = byMailbox.get(m.mailbox.id);
    if (m.mailbox.outgoing || q) w.sample(name, m.labels, q?.emails ?? 0);
  }
  name = 'mailsync_mailbox_pending_send_oldest_age_seconds';
  w.family(name, 'gauge', 'How long the oldest email not sent yet has waited since it was queued (absent when the queue is empty).');
  for (const m of fleet.mailboxes) {
    const q = byMailbox.get(m.mailbox.id);
    if (q) w.sample(name, m.labels, seconds(Math.max(0, now - q.oldestQueuedAt)));
  }
}

function perProfile(w: TextWriter, fleet: Fleet, { config, now, queue }: FleetInput): void {
  const windowMs = config.metrics.intermittentWindowSeconds * 1_000;
  const longMs = config.metrics.longTestEnableSeconds * 1_000;
  const counts = new Map<string, Record<Health, number>>();
  const recent = new Map<string, number>();
  const longTests = new Map<string, number>();
  for (const p of config.profiles) {
    counts.set(p.id, Object.fromEntries(HEALTH_BUCKETS.map((h) => [h, 0])) as Record<Health, number>);
    recent.set(p.id, 0);
    longTests.set(p.id, 0);
  }
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const m of fleet.mailboxes) {
    const profile = m.mailbox.profile;
    const c = counts.get(profile);
    if (!c) continue;
    c[m.health] += 1;
    if (m.entries.some((e) => e.row?.[C.lastFailureAt] != null && now - (e.row[C.lastFailureAt] as number) < windowMs)) bump(recent, profile);
    const test = fleet.tests.get(m.mailbox.id);
    if (test && isLongTestEnable(test, now, longMs)) bump(longTests, profile);
  }

  let name = 'mailsync_profile_info';
  w.family(name, 'gauge', 'Always 1: each email server profile, its owner (who is told when its mailboxes fail) and protocol.');
  for (const p of config.profiles) w.sample(name, labels({ profile: p.id, owner: p.owner ?? '', protocol: p.incoming.protocol }), 1);

  name = 'mailsync_profile_mailboxes';
  w.family(name, 'gauge', 'Configured mailboxes of a profile in each health bucket (every bucket present, zeros included).');
  for (const [profile, c] of counts) for (const h of HEALTH_BUCKETS) w.sample(name, `${labels({ profile })},health="${h}"`, c[h]);

  name = 'mailsync_profile_mailboxes_recently_failed';
  w.family(name, 'gauge', 'Mailboxes of a profile with a failed run within metrics.intermittentWindowSeconds (default 1 h).');
  for (const [profile, n] of recent) w.sample(name, labels({ profile }), n);

  const pending = new Map(config.profiles.map((p) => [p.id, 0]));
  const profileOf = new Map(fleet.mailboxes.map((m) => [m.mailbox.id, m.mailbox.profile]));
  for (const q of queue) {
    const p = profileOf.get(q.mailboxId);
    if (p !== undefined) pending.set(p, (pending.get(p) ?? 0) + q.emails);
  }
  name = 'mailsync_profile_pending_send_emails';
  w.family(name, 'gauge', 'Emails queued from the mailboxes of a profile and not sent yet.');
  for (const [profile, n] of pending) w.sample(name, labels({ profile }), n);

  name = 'mailsync_profile_mailboxes_testing_long';
  w.family(name, 'gauge', 'Mailboxes of a profile whose Test & Enable has been scheduled or running for longer than metrics.longTestEnableSeconds.');
  for (const [profile, n] of longTests) w.sample(name, labels({ profile }), n);
}
