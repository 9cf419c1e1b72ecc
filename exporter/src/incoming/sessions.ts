import type { ImapSession } from '../protocols/imap.js';
import type { IdleWatch } from './push.js';

interface Kept {
  session: ImapSession;
  profile: string;
  /** Set while the session waits in IDLE for the mailbox's new mail (`incoming.push: idle`). */
  watch: IdleWatch | undefined;
}

/**
 * Logged-in sessions kept between cycles, one per mailbox. A no-change check on a kept session is
 * one STATUS round trip instead of connect + TLS + login + logout, which is what lets one runner
 * check thousands of mailboxes a minute. Open sessions per profile never exceed its
 * `maxConnections`: when a new one is needed at the cap, the least recently used idle one closes.
 * A kept session may wait in IDLE (push.ts) until its mailbox's next cycle takes it.
 */
export class SessionPool {
  readonly #idle = new Map<string, Kept>();
  readonly #openByProfile = new Map<string, number>();
  readonly #limit: (profile: string) => number;
  /** Which config a session was opened under: one opened before a reload is not kept after it. */
  readonly #openedIn = new WeakMap<ImapSession, number>();
  #generation = 0;

  constructor(limit: (profile: string) => number) {
    this.#limit = limit;
  }

  /** Returns the mailbox's kept session when still usable, else opens one through `open`. */
  async acquire(mailboxId: string, profile: string, open: () => Promise<ImapSession>): Promise<{ session: ImapSession; reused: boolean }> {
    const kept = this.#idle.get(mailboxId);
    if (kept) {
      this.#idle.delete(mailboxId);
      kept.session.unpark();
      // The cycle's first command ends the IDLE; the watched folder stays open for it to read.
      const watching = kept.watch?.active ?? false;
      kept.watch?.abandon();
      // A folder open without IDLE (the server ended it) may show an old view: Dovecot refreshes a
      // session's view while it idles and at the end of commands. The cycle opens it afresh.
      if (!watching && kept.session.usable && kept.session.openFolder) await kept.session.leaveFolder().catch(() => undefined);
      if (kept.session.usable) return { session: kept.session, reused: true };
      this.#closed(kept.profile, kept.session);
    }
    while ((this.#openByProfile.get(profile) ?? 0) >= this.#limit(profile) && this.#evictOne(profile)) {
      // evicted the least recently used idle session of this profile
    }
    this.#openByProfile.set(profile, (this.#openByProfile.get(profile) ?? 0) + 1);
    try {
      const generation = this.#generation;
      const session = await open();
      this.#openedIn.set(session, generation);
      return { session, reused: false };
    } catch (error) {
      this.#openByProfile.set(profile, (this.#openByProfile.get(profile) ?? 1) - 1);
      throw error;
    }
  }

  /** Keeps the session for the mailbox's next cycle, or closes it when it should not be reused. */
  release(mailboxId: string, profile: string, session: ImapSession, reusable: boolean, watch?: IdleWatch): void {
    // A session in use during a reload may carry the old server or password: it is not kept.
    const current = this.#openedIn.get(session) === this.#generation;
    if (reusable && session.usable && current) {
      // A session in IDLE is not parked: imapflow probes an idling connection with a NOOP when it
      // goes quiet, which is how a dead peer under a watch is found.
      if (!watch) session.park();
      this.#idle.set(mailboxId, { session, profile, watch });
    }
    else {
      watch?.abandon();
      this.#closed(profile, session);
    }
  }

  /** Kept sessions waiting in IDLE now. */
  get watchingCount(): number {
    let n = 0;
    for (const kept of this.#idle.values()) if (kept.watch?.active) n += 1;
    return n;
  }

  /** Closes the mailbox's kept session, if any (the mailbox was disabled). */
  discard(mailboxId: string): void {
    const kept = this.#idle.get(mailboxId);
    if (!kept) return;
    this.#idle.delete(mailboxId);
    kept.watch?.abandon();
    this.#closed(kept.profile, kept.session);
  }

  get idleCount(): number {
    return this.#idle.size;
  }

  openCount(profile: string): number {
    return this.#openByProfile.get(profile) ?? 0;
  }

  /** Closes every idle session (after a config reload); sessions in use close when released. */
  closeIdle(): void {
    this.#generation += 1;
    for (const id of [...this.#idle.keys()]) this.discard(id);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#idle.values()];
    this.#idle.clear();
    this.#openByProfile.clear();
    // LOGOUT ends an IDLE cleanly: imapflow sends DONE before it.
    for (const { watch } of all) watch?.abandon();
    await Promise.all(all.map(({ session }) => session.close()));
  }

  #evictOne(profile: string): boolean {
    for (const [id, kept] of this.#idle) {
      if (kept.profile !== profile) continue;
      this.#idle.delete(id);
      kept.watch?.abandon();
      this.#closed(profile, kept.session);
      return true;
    }
    return false;
  }

  #closed(profile: string, session: ImapSession): void {
    this.#openByProfile.set(profile, Math.max(0, (this.#openByProfile.get(profile) ?? 1) - 1));
    void session.close();
  }
}
