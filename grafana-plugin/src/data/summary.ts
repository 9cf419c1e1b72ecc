import { HEALTH_BUCKETS, type Health, type MailboxRow } from '../types';

export interface Summary {
  total: number;
  byHealth: Record<Health, number>;
  /** intermittent + inactive + testing: "running with warnings". */
  warnings: number;
  /** In Test & Enable for longer than the threshold. */
  testingLong: number;
}

/** What the summary shows: the product's counts, from the joined rows. */
export function summarize(rows: MailboxRow[], now: number, longTestMs: number): Summary {
  const byHealth = Object.fromEntries(HEALTH_BUCKETS.map((h) => [h, 0])) as Record<Health, number>;
  let testingLong = 0;
  for (const r of rows) {
    byHealth[r.health] += 1;
    if (isLongTest(r, now, longTestMs)) testingLong += 1;
  }
  return { total: rows.length, byHealth, warnings: byHealth.intermittent + byHealth.inactive + byHealth.testing, testingLong };
}

export function isLongTest(r: MailboxRow, now: number, longTestMs: number): boolean {
  return r.health === 'testing' && r.testStartedAt !== null && now - r.testStartedAt > longTestMs;
}

/** Which rows a drill-down shows: a bucket, or the long-running Test & Enable ones. */
export type Selection = { kind: 'all' } | { kind: 'health'; health: Health } | { kind: 'testingLong' };

export function select(rows: MailboxRow[], s: Selection, now: number, longTestMs: number): MailboxRow[] {
  if (s.kind === 'all') return rows;
  if (s.kind === 'health') return rows.filter((r) => r.health === s.health);
  return rows.filter((r) => isLongTest(r, now, longTestMs));
}
