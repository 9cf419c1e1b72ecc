import { FieldType, type DataFrame } from '@grafana/data';
import { QUERIES, type QueryRef } from './queries';
import { DIRECTIONS, HEALTH_BUCKETS, type Direction, type DirectionRow, type Health, type MailboxRow } from '../types';

export { QUERIES } from './queries';
const REQUIRED: QueryRef[] = ['health', 'info'];

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a frame, whatever shape Grafana gave it: a table (one column per label and a
 * `Value` column, the Prometheus data source's table format), or numeric fields carrying labels
 * (time series and "both" formats; the last value of each field counts).
 */
export function samplesOf(frame: DataFrame): Sample[] {
  const numeric = frame.fields.filter((f) => f.type === FieldType.number);
  const labelled = numeric.filter((f) => f.labels && Object.keys(f.labels).length > 0);
  if (labelled.length > 0) {
    return labelled.map((f) => ({ labels: { ...f.labels }, value: Number(f.values[f.values.length - 1]) }));
  }
  const value = numeric.find((f) => f.name === 'Value' || f.name.startsWith('Value #')) ?? numeric[numeric.length - 1];
  if (!value) return [];
  const labelFields = frame.fields.filter((f) => f !== value && f.type === FieldType.string);
  const out: Sample[] = [];
  for (let i = 0; i < frame.length; i++) {
    const labels: Record<string, string> = {};
    for (const f of labelFields) labels[f.name] = String(f.values[i]);
    out.push({ labels, value: Number(value.values[i]) });
  }
  return out;
}

export type JoinResult = { ok: true; mailboxes: MailboxRow[] } | { ok: false; problem: string };

/** Joins the queries' samples by mailbox. Pure: frames in, rows (or what is wrong with the frames) out. */
export function joinFrames(frames: DataFrame[]): JoinResult {
  const byRef = new Map<string, Sample[]>();
  for (const frame of frames) {
    if (!frame.refId || !(frame.refId in QUERIES)) continue;
    byRef.set(frame.refId, [...(byRef.get(frame.refId) ?? []), ...samplesOf(frame)]);
  }
  const missing = REQUIRED.filter((r) => !byRef.has(r));
  if (missing.length > 0) return { ok: false, problem: `missing ${missing.map((r) => `${r} (${QUERIES[r]})`).join(', ')}` };

  const rows = new Map<string, MailboxRow>();
  for (const s of byRef.get('info') ?? []) {
    const mailbox = s.labels.mailbox;
    if (!mailbox) return { ok: false, problem: 'the info query has no mailbox label: query mailsync_mailbox_info as an instant table' };
    rows.set(mailbox, { mailbox, address: s.labels.address ?? '', profile: s.labels.profile ?? '', health: 'inactive', directions: {}, testStartedAt: null, itemFailures: [] });
  }
  const each = (ref: QueryRef, fn: (row: MailboxRow, s: Sample) => void) => {
    for (const s of byRef.get(ref) ?? []) {
      const row = s.labels.mailbox === undefined ? undefined : rows.get(s.labels.mailbox);
      if (row) fn(row, s);
    }
  };
  const direction = (row: MailboxRow, s: Sample): DirectionRow | undefined => {
    const d = s.labels.direction as Direction;
    if (!DIRECTIONS.includes(d)) return undefined;
    return (row.directions[d] ??= { enabled: true, disabledCode: null, consecutiveFailures: 0, lastSuccessAt: null, lastError: null });
  };
  let unknownHealth = false;
  each('health', (row, s) => {
    const h = s.labels.health as Health;
    if (HEALTH_BUCKETS.includes(h)) row.health = h;
    else unknownHealth = true;
  });
  if (unknownHealth) return { ok: false, problem: 'the health query returned a bucket this panel does not know: query mailsync_mailbox_health == 1' };
  each('enabled', (row, s) => {
    const d = direction(row, s);
    if (d) d.enabled = s.value === 1;
  });
  each('disabled', (row, s) => {
    const d = direction(row, s);
    if (d) d.disabledCode = s.labels.code ?? null;
  });
  each('failures', (row, s) => {
    const d = direction(row, s);
    if (d) d.consecutiveFailures = s.value;
  });
  each('success', (row, s) => {
    const d = direction(row, s);
    if (d) d.lastSuccessAt = s.value * 1_000;
  });
  each('error', (row, s) => {
    const d = direction(row, s);
    if (d) d.lastError = { code: s.labels.code ?? '', class: s.labels.class ?? '', scope: s.labels.scope ?? '', at: s.value * 1_000 };
  });
  each('test', (row, s) => {
    row.testStartedAt = s.value * 1_000;
  });
  each('items', (row, s) => {
    if (s.value > 0 && s.labels.code) row.itemFailures.push({ direction: s.labels.direction ?? '', code: s.labels.code, count: s.value });
  });
  return { ok: true, mailboxes: [...rows.values()] };
}
