import { hostname } from 'node:os';
import { DIRECTIONS } from '@mailsync/contract';
import type { Config, Mailbox } from '../config/index.js';
import type { Direction, LeaseKey, LeaseRow } from '../store/index.js';

/**
 * B: this runner's id in the leases and on its `runner` label: `runner.id`, else hostname-pid.
 * The pid is part of the default because two processes on one host (or one pod name reused at a
 * restart while the old process still drains) must never share an id; set `runner.id` for a label
 * that stays the same across restarts (docs/scaling.md).
 */
export function runnerId(config: Pick<Config, 'runner'>, host = hostname(), pid = process.pid): string {
  return config.runner.id ?? `${host}-${pid}`;
}

/**
 * What the runners share between them: every configured direction of every mailbox whose profile
 * exists, and the lead direction of a mailbox with none configured (no cycle runs for it, but one
 * runner writes its series and runs its Test & Enable).
 */
export function wantedLeases(config: Pick<Config, 'mailboxes' | 'profiles'>): LeaseKey[] {
  const profiles = new Set(config.profiles.map((p) => p.id));
  const keys: LeaseKey[] = [];
  for (const m of config.mailboxes) {
    if (!profiles.has(m.profile)) continue;
    const configured = DIRECTIONS.filter((d) => m[d]);
    for (const d of configured.length > 0 ? configured : [leadDirection(m)]) keys.push({ mailboxId: m.id, direction: d });
  }
  return keys;
}

/**
 * Whose runner carries out a mailbox's Test & Enable and writes its mailbox-wide series: the
 * holder of its incoming lease, or of its first configured direction when it has no incoming
 * (incoming again for a mailbox with no direction configured).
 */
export function leadDirection(mailbox: Pick<Mailbox, Direction>): Direction {
  return DIRECTIONS.find((d) => mailbox[d]) ?? 'incoming';
}

/** Per direction, the wanted directions no runner holds a live lease on (the unleased gauge). */
export function unleased(wanted: readonly LeaseKey[], rows: readonly LeaseRow[]): Map<Direction, number> {
  const live = new Set(rows.filter((r) => r.live).map((r) => `${r.direction}\u0000${r.mailboxId}`));
  const counts = new Map<Direction, number>(DIRECTIONS.map((d) => [d, 0]));
  for (const k of wanted) if (!live.has(`${k.direction}\u0000${k.mailboxId}`)) counts.set(k.direction, (counts.get(k.direction) ?? 0) + 1);
  return counts;
}
