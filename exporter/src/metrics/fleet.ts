import type { Config, Mailbox } from '../config/index.js';
import { DIRECTIONS } from '@mailsync/contract';
import { healthOf, type Health, type HealthDirection } from '../policy/health.js';
import { SCRAPE_COLUMNS as C, type Direction, type ScrapeRow, type Store, type TestState } from '../store/index.js';
import { escapeLabel } from './exposition.js';
import { LoopBudget } from './loop-budget.js';

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
export interface Entry {
  direction: Direction;
  labels: string;
  row: ScrapeRow | undefined;
}

/** The fleet as both the per-mailbox text and the per-profile aggregates need it. */
export interface Fleet {
  mailboxes: { mailbox: Mailbox; labels: string; health: Health; entries: Entry[] }[];
  tests: Map<string, { state: TestState; requestedAt: number | null }>;
}

/** Everything a scrape reads from the store: five queries, once per scrape. */
export async function readFleet(store: Store, config: FleetInput['config'], now: number, budget = new LoopBudget()): Promise<FleetInput> {
  const rows = await store.runs.scrapeRows();
  // SQLite answers synchronously: the loop may run between the largest read (a row per mailbox
  // direction) and the others rather than only after all five.
  await budget.spend();
  return {
    rows,
    tests: await store.lifecycle.activeTests(),
    errors: await store.lifecycle.mailboxErrorCounts(),
    itemFailures: await store.mail.itemFailureCounts(),
    queue: await store.outgoing.queueStats(),
    config,
    now,
  };
}

/** Groups the store's rows by configured mailbox and decides each mailbox's health bucket. */
export function assemble({ rows, tests, config, now }: FleetInput): Fleet {
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
    const { prefix, byDirection } = labelsOf(mailbox);
    const entries: Entry[] = [];
    const health: HealthDirection[] = [];
    for (const d of DIRECTIONS) {
      if (!mailbox[d]) continue;
      const row = own.find((r) => r[C.direction] === d);
      entries.push({ direction: d, labels: byDirection[d], row });
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

/**
 * A mailbox's label prefixes, escaped once per config object (a reload makes new ones): built on
 * every scrape they were 20,000 strings at 10,000 mailboxes, and the same string object from one
 * scrape to the next makes the kept-text comparison (mailbox-cache.ts) a pointer comparison.
 */
const labelCache = new WeakMap<Mailbox, { prefix: string; byDirection: Record<Direction, string> }>();

function labelsOf(mailbox: Mailbox): { prefix: string; byDirection: Record<Direction, string> } {
  let cached = labelCache.get(mailbox);
  if (!cached) {
    const prefix = `mailbox="${escapeLabel(mailbox.id)}"`;
    const byDirection = Object.fromEntries(DIRECTIONS.map((d) => [d, `${prefix},direction="${d}"`])) as Record<Direction, string>;
    cached = { prefix, byDirection };
    labelCache.set(mailbox, cached);
  }
  return cached;
}
