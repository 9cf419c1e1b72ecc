import type { Direction, LeaseKey } from '../store/index.js';

/**
 * B: what a runner does with its leases, decided apart from any I/O so each rule is tested alone.
 * The keeper (keeper.ts) carries the decisions out against the store.
 */

/** Each runner's share of a direction's mailboxes: all runners together cover every one of them. */
export function fairShare(wanted: number, liveRunners: number): number {
  return Math.ceil(wanted / Math.max(1, liveRunners));
}

export interface LeasePlanInput {
  /** Every mailbox direction the config asks for. */
  wanted: readonly LeaseKey[];
  /** What this runner holds now. */
  held: readonly LeaseKey[];
  /** Runners alive by their heartbeats, this one included. */
  liveRunners: number;
  /** True while the direction's cycle runs: such a lease is shed last (shedding it aborts the cycle). */
  busy: (key: LeaseKey) => boolean;
}

export interface LeasePlan {
  /** Per direction: the directions to try, and how many of them this runner may win. */
  claim: { direction: Direction; candidates: LeaseKey[]; limit: number }[];
  /** Leases to give up: no longer configured, or beyond this runner's share. */
  shed: LeaseKey[];
}

export const leaseKey = (k: LeaseKey): string => `${k.direction}\u0000${k.mailboxId}`;

/**
 * Per direction, the runner keeps at most its fair share: what it holds beyond that is shed (idle
 * leases first, then by mailbox id, so two rounds shed the same ones), and below it the runner
 * claims the difference among the directions it does not hold. Shares count per direction
 * because directions cost differently (an IMAP fetch is not an outgoing queue check).
 */
export function planLeases({ wanted, held, liveRunners, busy }: LeasePlanInput): LeasePlan {
  const wantedKeys = new Set(wanted.map(leaseKey));
  const shed: LeaseKey[] = held.filter((k) => !wantedKeys.has(leaseKey(k)));
  const claim: LeasePlan['claim'] = [];
  for (const direction of new Set(wanted.map((k) => k.direction))) {
    const mine = held.filter((k) => k.direction === direction && wantedKeys.has(leaseKey(k)));
    const ofDirection = wanted.filter((k) => k.direction === direction);
    const share = fairShare(ofDirection.length, liveRunners);
    if (mine.length > share) {
      const order = [...mine].sort((a, b) => Number(busy(a)) - Number(busy(b)) || (a.mailboxId < b.mailboxId ? 1 : -1));
      shed.push(...order.slice(0, mine.length - share));
      continue;
    }
    const mineKeys = new Set(mine.map(leaseKey));
    const candidates = ofDirection.filter((k) => !mineKeys.has(leaseKey(k)));
    if (candidates.length > 0 && share > mine.length) claim.push({ direction, candidates, limit: share - mine.length });
  }
  return { claim, shed };
}

/** How often the keeper heartbeats, renews and claims: a third of the TTL, so two renewals may fail before a lease expires. */
export function roundIntervalMs(ttlMs: number): number {
  return Math.max(1, Math.floor(ttlMs / 3));
}

/**
 * Until when this runner may be sure it still holds a lease: the TTL counted from when it SENT the
 * claim or renewal. The database set the expiry at least that late (it received the request
 * after), so this never overstates the lease whatever the two clocks read.
 */
export function validUntil(requestSentAt: number, ttlMs: number): number {
  return requestSentAt + ttlMs;
}
