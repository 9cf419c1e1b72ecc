import type { Lease, LeaseKey, LeaseRow, LeaseStore } from '../lease-types.js';

/**
 * B: the leases of a store only one runner uses (SQLite is a file on one machine): every claim
 * succeeds, the token never changes, nothing is persisted. The runner keeps one code path (the
 * keeper, fenced turns, held-only series) whichever driver is configured.
 */
export class SoleRunnerLeases implements LeaseStore {
  readonly #held = new Map<string, LeaseRow>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  heartbeat(): Promise<number> {
    return Promise.resolve(1);
  }

  claim(runner: string, wanted: readonly LeaseKey[], limit: number, ttlMs: number): Promise<Lease[]> {
    // Every claim wins, also of a lease the row says is already this runner's: the keeper claims
    // only what it does not hold, so that is a lease it dropped (its TTL passed in a long pause).
    const won: Lease[] = [];
    for (const k of wanted) {
      if (won.length >= limit) break;
      const key = keyOf(k);
      const row: LeaseRow = { mailboxId: k.mailboxId, direction: k.direction, runner, token: 1, expiresAt: this.#now() + ttlMs, live: true };
      this.#held.set(key, row);
      won.push({ mailboxId: k.mailboxId, direction: k.direction, token: 1, expiresAt: row.expiresAt, previousRunner: null });
    }
    return Promise.resolve(won);
  }

  renew(runner: string, leases: readonly Lease[], ttlMs: number): Promise<Lease[]> {
    const kept: Lease[] = [];
    for (const l of leases) {
      const row = this.#held.get(keyOf(l));
      if (row?.runner !== runner) continue;
      row.expiresAt = this.#now() + ttlMs;
      kept.push({ ...l, expiresAt: row.expiresAt });
    }
    return Promise.resolve(kept);
  }

  release(runner: string, leases: readonly LeaseKey[]): Promise<void> {
    for (const l of leases) if (this.#held.get(keyOf(l))?.runner === runner) this.#held.delete(keyOf(l));
    return Promise.resolve();
  }

  list(): Promise<LeaseRow[]> {
    return Promise.resolve([...this.#held.values()].map((r) => ({ ...r })));
  }
}

const keyOf = (k: LeaseKey) => `${k.direction}\u0000${k.mailboxId}`;
