import type { Mailbox } from '../config/index.js';
import type { Health } from '../policy/health.js';
import { SCRAPE_COLUMNS as C, type ScrapeRow } from '../store/index.js';
import { escapeLabel, familyHeader, labels, sampleLine } from './exposition.js';
import { family, type NameOf } from './families.js';
import type { Entry, FleetInput } from './fleet.js';
import type { ExpositionFormat } from './format.js';

/** The families written here: the table says which (producer `text`). */
type MailboxFamily = NameOf<'gauge' | 'counter', 'text'>;

/**
 * The per-mailbox families in the order they are served. All but the last are a function of the
 * mailbox's stored state alone, so a mailbox's lines for them can be kept until that state changes
 * (mailbox-cache.ts); the pending-send age depends on the time of the scrape and is written anew.
 */
export const MAILBOX_FAMILIES = [
  'mailsync_mailbox_info', 'mailsync_mailbox_health', 'mailsync_mailbox_enabled', 'mailsync_mailbox_disabled',
  'mailsync_mailbox_consecutive_failures', 'mailsync_mailbox_last_success_timestamp_seconds',
  'mailsync_mailbox_last_error_timestamp_seconds', 'mailsync_mailbox_test_started_timestamp_seconds',
  'mailsync_mailbox_sync_runs_total', 'mailsync_mailbox_sync_retries_total', 'mailsync_mailbox_items_processed_total',
  'mailsync_mailbox_sync_errors_total', 'mailsync_mailbox_items_failed_total', 'mailsync_mailbox_pending_send_emails',
  'mailsync_mailbox_pending_send_oldest_age_seconds',
] as const satisfies readonly MailboxFamily[];

/** Index of the one family written at every scrape (the others come from the cache). */
export const AGE_FAMILY = MAILBOX_FAMILIES.length - 1;

/**
 * Everything one mailbox's series are written from: its part of a scrape's store read, already
 * narrowed to what this runner writes (metrics/held.ts).
 */
export interface MailboxSlice {
  mailbox: Mailbox;
  /** `mailbox="…"`, escaped once. */
  labels: string;
  health: Health;
  /** Its configured directions this runner holds, each with its row. */
  entries: Entry[];
  /** Whether this runner writes the mailbox-wide series (info, health, Test & Enable, queue). */
  lead: boolean;
  testRequestedAt: number | null;
  errors: FleetInput['errors'];
  itemFailures: FleetInput['itemFailures'];
  queue: FleetInput['queue'][number] | undefined;
}

/** One mailbox's lines of each cached family (index as MAILBOX_FAMILIES, the age's left empty). */
export interface MailboxLines {
  parts: string[];
  series: number;
}

const seconds = (ms: number) => ms / 1_000;
const ORGANIZER_CODE = 'appointment_organizer_missing';

/** A family's HELP and TYPE lines in `format`, from its row of families.ts. */
export function mailboxFamilyHeader(index: number, format: ExpositionFormat): string {
  return familyHeader(family(MAILBOX_FAMILIES[index] as MailboxFamily), format);
}

/**
 * One mailbox's lines of every family but the pending-send age (docs/metrics.md describes each):
 * pure, from its slice alone, so that a kept copy is exactly what writing it again would give.
 */
export function renderMailbox(s: MailboxSlice): MailboxLines {
  const parts: string[] = MAILBOX_FAMILIES.map(() => '');
  let series = 0;
  const add = (index: number, labelText: string, value: number) => {
    parts[index] += sampleLine(MAILBOX_FAMILIES[index] as string, labelText, value);
    series += 1;
  };
  if (s.lead) {
    add(0, `${s.labels},${labels({ profile: s.mailbox.profile, address: s.mailbox.address })}`, 1);
    add(1, `${s.labels},health="${s.health}"`, 1);
    if (s.testRequestedAt != null) add(7, s.labels, seconds(s.testRequestedAt));
  }
  for (const e of s.entries) directionLines(add, e, e.row);
  for (const e of s.errors) add(11, `${s.labels},${labels({ direction: e.direction, class: e.class, scope: e.scope, code: e.code })}`, e.count);
  for (const f of s.itemFailures) add(12, `${s.labels},${labels({ direction: f.direction, code: f.code })}`, f.count);
  // C: the documented organizer alert is an increase() of this counter, which a series born at 1
  // never shows; an ACT mailbox's series for that code starts at 0 (Prometheus' advice for counters).
  const organizerSeen = s.itemFailures.some((f) => f.direction === 'act' && f.code === ORGANIZER_CODE);
  if (s.mailbox.act && !organizerSeen && s.entries.some((e) => e.direction === 'act')) {
    add(12, `${s.labels},${labels({ direction: 'act', code: ORGANIZER_CODE })}`, 0);
  }
  if (s.lead && (s.mailbox.outgoing || s.queue)) add(13, s.labels, s.queue?.emails ?? 0);
  return { parts, series };
}

type Add = (index: number, labelText: string, value: number) => void;

function directionLines(add: Add, e: Entry, r: ScrapeRow | undefined): void {
  add(2, e.labels, r?.[C.disabled] === 1 ? 0 : 1);
  const code = r?.[C.disabled] === 1 ? r[C.disabledCode] : null;
  if (code) add(3, `${e.labels},code="${escapeLabel(code)}"`, 1);
  add(4, e.labels, r?.[C.consecutiveFailures] ?? 0);
  const success = r?.[C.lastSuccessAt];
  if (success != null) add(5, e.labels, seconds(success));
  const failure = r?.[C.lastFailureAt];
  const errorCode = r?.[C.lastErrorCode];
  if (r && failure != null && errorCode) {
    add(6, `${e.labels},${labels({ code: errorCode, class: r[C.lastErrorClass] ?? 'transient', scope: r[C.lastErrorScope] ?? 'mailbox' })}`, seconds(failure));
  }
  add(8, `${e.labels},result="success"`, r?.[C.runsSuccess] ?? 0);
  add(8, `${e.labels},result="failure"`, r?.[C.runsFailure] ?? 0);
  if ((r?.[C.runsAborted] ?? 0) > 0) add(8, `${e.labels},result="aborted"`, r?.[C.runsAborted] as number);
  add(9, e.labels, r?.[C.retries] ?? 0);
  add(10, e.labels, r?.[C.itemsProcessed] ?? 0);
}

/** The pending-send age line of a mailbox, or '' (it depends on `now`, so it is never kept). */
export function ageLine(s: MailboxSlice, now: number): string {
  if (!s.lead || !s.queue) return '';
  return sampleLine(MAILBOX_FAMILIES[AGE_FAMILY] as string, s.labels, seconds(Math.max(0, now - s.queue.oldestQueuedAt)));
}
