import type { Lease, LeaseKey, LeaseRow, LeaseStore } from '../../exporter/src/store/index.js';

/**
 * The lease rules of store/postgres/leases.ts in memory, shared by several keepers as one database
 * is shared by runners: the database's clock is `time`, `down` makes every call fail, `hang` makes
 * every call wait forever (a database that stopped answering).
 */
export class MemoryLeases implements LeaseStore {
  readonly rows: Map<string, { runner: string | null; token: number; expiresAt: number; key: LeaseKey }>;
  readonly seen: Map<string, number>;
  down = false;
  hang = false;
  readonly #time: { now: number };
  /**
   * F: PostgreSQL's lease notifications (store/postgres/leases.ts): when on, a runner's first
   * heartbeat within the TTL and a release that freed a row call every view's `onRebalance`
   * listeners with its id, after the call has answered (a NOTIFY is delivered at commit).
   */
  readonly bus: { notifies: boolean; listeners: ((from: string) => void)[] };

  constructor(time: { now: number }, shared?: MemoryLeases) {
    this.#time = time;
    this.rows = shared?.rows ?? new Map();
    this.seen = shared?.seen ?? new Map();
    this.bus = shared?.bus ?? { notifies: false, listeners: [] };
  }

  onRebalance(listener: (from: string) => void): void {
    this.bus.listeners.push(listener);
  }

  #notify(from: string): void {
    if (!this.bus.notifies) return;
    const listeners = [...this.bus.listeners];
    setImmediate(() => { for (const listen of listeners) listen(from); });
  }

  /** Another runner's connection to the same rows, with its own `down` and `hang`. */
  view(): MemoryLeases {
    return new MemoryLeases(this.#time, this);
  }

  async heartbeat(runner: string, ttlMs: number): Promise<number> {
    await this.#reachable();
    const before = this.seen.get(runner);
    if (before === undefined || before <= this.#time.now - ttlMs) this.#notify(runner);
    this.seen.set(runner, this.#time.now);
    return [...this.seen.values()].filter((at) => at > this.#time.now - ttlMs).length;
  }

  async claim(runner: string, wanted: readonly LeaseKey[], limit: number, ttlMs: number): Promise<Lease[]> {
    await this.#reachable();
    const now = this.#time.now;
    const won: Lease[] = [];
    for (const k of wanted) {
      if (won.length >= limit) break;
      const key = `${k.direction}/${k.mailboxId}`;
      const row = this.rows.get(key) ?? { runner: null, token: 0, expiresAt: now, key: { mailboxId: k.mailboxId, direction: k.direction } };
      if (row.runner !== null && row.expiresAt > now) continue;
      const previousRunner = row.runner;
      Object.assign(row, { runner, token: row.token + 1, expiresAt: now + ttlMs });
      this.rows.set(key, row);
      won.push({ ...row.key, token: row.token, expiresAt: row.expiresAt, previousRunner });
    }
    return won;
  }

  async renew(runner: string, leases: readonly Lease[], ttlMs: number): Promise<Lease[]> {
    await this.#reachable();
    const now = this.#time.now;
    return leases.flatMap((l) => {
      const row = this.rows.get(`${l.direction}/${l.mailboxId}`);
      if (!row || row.runner !== runner || row.token !== l.token || row.expiresAt <= now) return [];
      row.expiresAt = now + ttlMs;
      return [{ ...row.key, token: row.token, expiresAt: row.expiresAt }];
    });
  }

  async release(runner: string, leases: readonly LeaseKey[]): Promise<void> {
    await this.#reachable();
    let freed = false;
    for (const l of leases) {
      const row = this.rows.get(`${l.direction}/${l.mailboxId}`);
      if (row?.runner !== runner) continue;
      Object.assign(row, { runner: null, expiresAt: this.#time.now });
      freed = true;
    }
    if (freed) this.#notify(runner);
  }

  async leave(runner: string): Promise<void> {
    await this.#reachable();
    if (this.seen.delete(runner)) this.#notify(runner);
  }

  async list(): Promise<LeaseRow[]> {
    await this.#reachable();
    const now = this.#time.now;
    return [...this.rows.values()].map((r) => ({ ...r.key, runner: r.runner, token: r.token, expiresAt: r.expiresAt, live: r.runner !== null && r.expiresAt > now }));
  }

  /** Who holds each key now, by the database's clock. */
  holders(): Map<string, string> {
    const now = this.#time.now;
    return new Map([...this.rows].flatMap(([k, r]) => (r.runner !== null && r.expiresAt > now ? [[k, r.runner] as [string, string]] : [])));
  }

  async #reachable(): Promise<void> {
    if (this.hang) await new Promise<never>(() => undefined);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }
}
