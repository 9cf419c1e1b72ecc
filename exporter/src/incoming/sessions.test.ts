import { describe, expect, it } from 'vitest';
import type { ImapSession } from '../protocols/imap.js';
import { SessionPool } from './sessions.js';

/** Just what the pool reads of a session: whether it is usable, parking it, and closing it. */
function fakeSession(): ImapSession & { closed: boolean } {
  const s = { usable: true, closed: false, park: () => undefined, unpark: () => undefined, close: async () => { s.closed = true; s.usable = false; } };
  return s as unknown as ImapSession & { closed: boolean };
}

describe('SessionPool', () => {
  it('keeps a released session for the mailbox\'s next cycle', async () => {
    const pool = new SessionPool(() => 2);
    const { session } = await pool.acquire('m', 'p', async () => fakeSession());
    pool.release('m', 'p', session, true);
    expect(await pool.acquire('m', 'p', async () => fakeSession())).toMatchObject({ session, reused: true });
  });

  it('does not keep a session that was in use during a reload: it may carry the old server or password', async () => {
    const pool = new SessionPool(() => 2);
    const opened = fakeSession();
    const { session } = await pool.acquire('m', 'p', async () => opened);
    pool.closeIdle();
    pool.release('m', 'p', session, true);
    expect(opened.closed).toBe(true);
    expect(pool.idleCount).toBe(0);
    expect(pool.openCount('p')).toBe(0);
    // The next cycle logs in afresh, and that session is kept again.
    const fresh = await pool.acquire('m', 'p', async () => fakeSession());
    expect(fresh.reused).toBe(false);
    pool.release('m', 'p', fresh.session, true);
    expect(pool.idleCount).toBe(1);
  });
});
