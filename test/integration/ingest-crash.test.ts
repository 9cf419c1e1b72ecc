import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { FaultProxy } from '../harness/fault-proxy.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

/**
 * The runner is killed (SIGKILL) after a batch's raw bytes reached the pack file and before the
 * rows pointing at them committed. The store must then hold only whole batches, point at no
 * missing byte (`mailsync store check` passes), and have the unreferenced bytes that the next
 * start's compaction removes; the next cycles store every message exactly once.
 */
let dovecot: Dovecot;
let proxy: FaultProxy;
beforeAll(async () => {
  dovecot = await Dovecot.start();
  proxy = await FaultProxy.start(dovecot.imapPort);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await dovecot?.stop();
});

const TOTAL = 30;
const packBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

function storeState(dbPath: string) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db.prepare('SELECT count(*) AS emails, coalesce(sum(size), 0) AS bytes FROM email WHERE mailbox_id = ?').get('crash') as { emails: number; bytes: number };
    const cursor = db.prepare('SELECT last_uid AS lastUid FROM folder_cursor WHERE mailbox_id = ?').get('crash') as { lastUid: number } | undefined;
    const locations = (db.prepare('SELECT count(*) AS n FROM email_location WHERE mailbox_id = ?').get('crash') as { n: number }).n;
    return { ...row, locations, lastUid: cursor?.lastUid ?? 0 };
  } finally {
    db.close();
  }
}

describe('a crash between the pack write and the commit', () => {
  it('leaves unreferenced bytes, never a reference to missing bytes; compaction at the next start removes them', async () => {
    const user = dovecot.addUser('packcrash');
    dovecot.seedMaildir(user.name, Array.from({ length: TOTAL }, (_, i) => makeMessage(i, { attachmentBytes: 15_000 })));
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'crash', user: user.name }],
      profiles: [labProfile(dovecot, 'lab', { incoming: { host: 'localhost', port: proxy.port, security: 'starttls', caFile: dovecot.cert.cert } })],
      sync: { batchSize: 10, jitterRatio: 0 },
    });
    const dbPath = path.join(lab.dir, 'mailsync.db');
    const packs = `${dbPath}.packs`;
    // A slow link (about 2 s a batch), so the test can hold the store between two batches.
    proxy.set({ kind: 'bandwidth', bytesPerSecond: 100_000 });
    const first = startCli(['sync-once', '--config', lab.file, '--mailbox', 'crash', '--log-level', 'debug'], lab.env);
    await first.waitForLog((e) => e.msg === 'batch committed', 30_000);
    // The store's write lock, as a stalled disk would hold it: the next batch's bytes reach the
    // pack (written and synced first), its commit waits, and the runner dies waiting.
    const lock = new Database(dbPath);
    lock.pragma('busy_timeout = 5000');
    lock.exec('BEGIN EXCLUSIVE');
    const committed = storeState(dbPath);
    await waitFor(() => packBytes(packs), { what: 'the next batch in the pack', until: (n) => n > committed.bytes, intervalMs: 20, timeoutMs: 4_000 });
    first.child.kill('SIGKILL');
    await first.exited;
    lock.exec('ROLLBACK');
    lock.close();
    proxy.clear();

    const midway = storeState(dbPath);
    expect(midway).toEqual(committed);
    expect(midway.emails).toBe(midway.lastUid);
    expect(midway.emails).toBeLessThan(TOTAL);
    const unreferenced = packBytes(packs) - midway.bytes;
    expect(unreferenced).toBeGreaterThan(0);
    const check = await runCli(['store', 'check', '--config', lab.file], lab.env);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`database ok; ${midway.emails} emails checked (${midway.emails} in packs), 0 with problems; ${unreferenced} bytes in packs no email points at`);

    // The next start compacts before it ingests; its cycle fetches the lost batch again.
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
    const compacted = await run.waitForLog((e) => e.msg === 'removed raw bytes no stored email points at');
    expect(compacted.freedBytes).toBe(unreferenced);
    await waitFor(() => storeState(dbPath), { what: 'every message stored', until: (s) => s.lastUid === TOTAL, timeoutMs: 30_000 });
    await run.stop();

    const end = storeState(dbPath);
    expect(end).toMatchObject({ emails: TOTAL, locations: TOTAL, lastUid: TOTAL });
    expect(packBytes(packs)).toBe(end.bytes);
    const after = await runCli(['store', 'check', '--config', lab.file], lab.env);
    expect({ code: after.code, out: after.stdout }).toEqual({ code: 0, out: expect.stringContaining(`${TOTAL} emails checked (${TOTAL} in packs), 0 with problems; 0 bytes in packs no email points at`) as unknown });
    expect(after.stderr).toContain(`checked ${TOTAL} of ${TOTAL} emails`);
  }, 120_000);
});
