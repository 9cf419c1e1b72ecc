import { SCRAPE_COLUMNS as C, type ScrapeRow } from '../store/index.js';
import { escapeLabel, labels, TextWriter } from './exposition.js';
import { family, type NameOf } from './families.js';
import type { Entry, Fleet, FleetInput } from './fleet.js';
import type { ExpositionFormat } from './format.js';

/** The families written here: the table says which (producer `text`). */
type MailboxFamily = NameOf<'gauge' | 'counter', 'text'>;

const seconds = (ms: number) => ms / 1_000;

/**
 * The per-mailbox state families (docs/metrics.md describes each), written straight to the text
 * format from the store's rows: this runs on every scrape for every mailbox, ~10 series each.
 */
export function renderMailboxes(fleet: Fleet, input: FleetInput, format: ExpositionFormat = 'prometheus'): { text: string; series: number } {
  const w = new TextWriter(format);
  const open = (name: MailboxFamily): MailboxFamily => {
    w.family(family(name));
    return name;
  };
  perMailbox(w, open, fleet, input);
  pendingSend(w, open, fleet, input);
  return { text: w.toString(), series: w.series };
}

type Open = (name: MailboxFamily) => MailboxFamily;

function perMailbox(w: TextWriter, open: Open, fleet: Fleet, { errors, itemFailures }: FleetInput): void {
  const each = (fn: (e: Entry, row: ScrapeRow | undefined) => void) => {
    for (const m of fleet.mailboxes) for (const e of m.entries) fn(e, e.row);
  };

  // B: mailbox-wide series only from the runner that leads the mailbox (metrics/held.ts).
  const leading = fleet.mailboxes.filter((m) => m.lead !== false);
  let name = open('mailsync_mailbox_info');
  for (const m of leading) w.sample(name, `${m.labels},${labels({ profile: m.mailbox.profile, address: m.mailbox.address })}`, 1);

  name = open('mailsync_mailbox_health');
  for (const m of leading) w.sample(name, `${m.labels},health="${m.health}"`, 1);

  name = open('mailsync_mailbox_enabled');
  each((e, r) => w.sample(name, e.labels, r?.[C.disabled] === 1 ? 0 : 1));

  name = open('mailsync_mailbox_disabled');
  each((e, r) => {
    const code = r?.[C.disabled] === 1 ? r[C.disabledCode] : null;
    if (code) w.sample(name, `${e.labels},code="${escapeLabel(code)}"`, 1);
  });

  name = open('mailsync_mailbox_consecutive_failures');
  each((e, r) => w.sample(name, e.labels, r?.[C.consecutiveFailures] ?? 0));

  name = open('mailsync_mailbox_last_success_timestamp_seconds');
  each((e, r) => {
    const at = r?.[C.lastSuccessAt];
    if (at != null) w.sample(name, e.labels, seconds(at));
  });

  name = open('mailsync_mailbox_last_error_timestamp_seconds');
  each((e, r) => {
    const at = r?.[C.lastFailureAt];
    const code = r?.[C.lastErrorCode];
    if (at == null || !code || !r) return;
    w.sample(name, `${e.labels},${labels({ code, class: r[C.lastErrorClass] ?? 'transient', scope: r[C.lastErrorScope] ?? 'mailbox' })}`, seconds(at));
  });

  name = open('mailsync_mailbox_test_started_timestamp_seconds');
  for (const m of leading) {
    const at = fleet.tests.get(m.mailbox.id)?.requestedAt;
    if (at != null) w.sample(name, m.labels, seconds(at));
  }

  name = open('mailsync_mailbox_sync_runs_total');
  each((e, r) => {
    w.sample(name, `${e.labels},result="success"`, r?.[C.runsSuccess] ?? 0);
    w.sample(name, `${e.labels},result="failure"`, r?.[C.runsFailure] ?? 0);
    if ((r?.[C.runsAborted] ?? 0) > 0) w.sample(name, `${e.labels},result="aborted"`, r?.[C.runsAborted] as number);
  });

  name = open('mailsync_mailbox_sync_retries_total');
  each((e, r) => w.sample(name, e.labels, r?.[C.retries] ?? 0));

  name = open('mailsync_mailbox_items_processed_total');
  each((e, r) => w.sample(name, e.labels, r?.[C.itemsProcessed] ?? 0));

  const known = new Map(fleet.mailboxes.map((m) => [m.mailbox.id, m.labels]));
  name = open('mailsync_mailbox_sync_errors_total');
  for (const e of errors) {
    const l = known.get(e.mailboxId);
    if (l) w.sample(name, `${l},${labels({ direction: e.direction, class: e.class, scope: e.scope, code: e.code })}`, e.count);
  }

  name = open('mailsync_mailbox_items_failed_total');
  for (const f of itemFailures) {
    const l = known.get(f.mailboxId);
    if (l) w.sample(name, `${l},${labels({ direction: f.direction, code: f.code })}`, f.count);
  }
  // C: the documented organizer alert is an increase() of this counter, which a series born at 1
  // never shows; an ACT mailbox's series for that code starts at 0 (Prometheus' advice for counters).
  const organizerSeen = new Set(itemFailures.filter((f) => f.direction === 'act' && f.code === ORGANIZER_CODE).map((f) => f.mailboxId));
  for (const m of fleet.mailboxes) {
    if (!m.mailbox.act || organizerSeen.has(m.mailbox.id) || !m.entries.some((e) => e.direction === 'act')) continue;
    w.sample(name, `${m.labels},${labels({ direction: 'act', code: ORGANIZER_CODE })}`, 0);
  }
}

const ORGANIZER_CODE = 'appointment_organizer_missing';

function pendingSend(w: TextWriter, open: Open, fleet: Fleet, { queue, now }: FleetInput): void {
  const byMailbox = new Map(queue.map((q) => [q.mailboxId, q]));
  const leading = fleet.mailboxes.filter((m) => m.lead !== false);
  let name = open('mailsync_mailbox_pending_send_emails');
  for (const m of leading) {
    const q = byMailbox.get(m.mailbox.id);
    if (m.mailbox.outgoing || q) w.sample(name, m.labels, q?.emails ?? 0);
  }
  name = open('mailsync_mailbox_pending_send_oldest_age_seconds');
  for (const m of leading) {
    const q = byMailbox.get(m.mailbox.id);
    if (q) w.sample(name, m.labels, seconds(Math.max(0, now - q.oldestQueuedAt)));
  }
}
