/**
 * A full disk under the store: a real `mailsync run` whose store.path is on a 3 MB tmpfs, filled
 * up while the mailbox receives mail. The runner must say so in one clear log line, count it in
 * mailsync_store_errors_total, hold nothing against the mailbox (no failure, no retry, no disable),
 * and store the mail exactly once when space returns. Mounting needs root, which CI has.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type Running } from '../harness/cli.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

let dovecot: Dovecot;
let disk: string;
let run: Running | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the full-disk test mounts a tmpfs and must run as root (CI does)');
  disk = mkdtempSync(path.join(tmpdir(), 'mailsync-full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk]);
  dovecot = await Dovecot.start();
});

afterAll(async () => {
  if (run) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await dovecot?.stop();
  if (disk) {
    execFileSync('umount', [disk]);
    rmSync(disk, { recursive: true, force: true });
  }
});

/** Writes a file until the filesystem refuses more (ENOSPC); returns its path. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // Smaller writes may still fit in the last partial page: fill to the last byte.
  const tail = openSync(file, 'a');
  try {
    for (;;) writeSync(tail, Buffer.alloc(512, 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(tail);
  }
  return file;
}

function readStore(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const state = db.prepare(`SELECT disabled, consecutive_failures AS consecutive, runs_failure_total AS failures, retries_total AS retries,
      last_error_code AS lastErrorCode FROM mailbox_direction_state WHERE mailbox_id = 'full' AND direction = 'incoming'`).get() as
      { disabled: number; consecutive: number; failures: number; retries: number; lastErrorCode: string | null };
    const subjects = (db.prepare(`SELECT subject FROM email WHERE mailbox_id = 'full' ORDER BY subject`).all() as { subject: string }[]).map((r) => r.subject);
    const locations = (db.prepare(`SELECT count(*) AS n FROM email_location WHERE mailbox_id = 'full'`).get() as { n: number }).n;
    const alerts = (db.prepare(`SELECT count(*) AS n FROM alert_record WHERE mailbox_id = 'full'`).get() as { n: number }).n;
    return { ...state, subjects, locations, alerts };
  } finally {
    db.close();
  }
}

async function storeErrors(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^mailsync_store_errors_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('a full disk under the store', () => {
  it('is logged as such and counted, holds nothing against the mailbox, and syncing resumes when space returns', async () => {
    const user = dovecot.addUser('full');
    await dovecot.append(user, 'INBOX', [0, 1, 2].map((n) => makeMessage(n)));
    const storePath = path.join(disk, 'mailsync.db');
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'full', user: user.name }],
      sync: { pollIntervalSeconds: 1, jitterRatio: 0, batchSize: 5 },
      extra: { store: { path: storePath } },
    });
    run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
    const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
    await run.waitForLog((e) => e.msg === 'incoming cycle finished' && e.items === 3);
    expect(await storeErrors(url)).toBe(0);

    const filler = fillDisk(disk);
    // Each message is larger than anything the store could still squeeze into a partial page.
    const later = Array.from({ length: 6 }, (_, i) => makeMessage(100 + i, { attachmentBytes: 20_000 }));
    await dovecot.append(user, 'INBOX', later);

    const full = await run.waitForLog((e) => typeof e.msg === 'string' && e.msg.includes("the store's disk is full"));
    expect(full).toMatchObject({ level: 50, mailbox: 'full', direction: 'incoming', code: 'SQLITE_FULL' });
    // The reason in words, not a stack trace.
    expect(typeof full.err).toBe('string');
    expect(String(full.err)).not.toMatch(/\n\s+at /);
    await waitFor(() => storeErrors(url), { what: 'mailsync_store_errors_total to count the failed write', until: (n) => n >= 1 });

    // Still full: the mailbox is not failing, not retrying, not disabled, and no alert is recorded for it.
    const during = readStore(storePath);
    expect(during).toMatchObject({ disabled: 0, consecutive: 0, failures: 0, retries: 0, lastErrorCode: null, alerts: 0 });
    expect(during.subjects).toHaveLength(3);

    rmSync(filler);
    const after = await waitFor(() => readStore(storePath), { what: 'the mail that arrived during the full disk to be stored', until: (s) => s.subjects.length >= 9 });
    expect(after.subjects).toEqual([...[0, 1, 2, ...[0, 1, 2, 3, 4, 5].map((i) => 100 + i)].map((n) => `Test message ${n}`)].sort());
    expect(after.locations).toBe(9);
    expect(after).toMatchObject({ disabled: 0, consecutive: 0, failures: 0, retries: 0, lastErrorCode: null, alerts: 0 });

    const logs = run.stdout() + run.stderr();
    expect(logs).not.toContain('cycle crashed');
    await run.stop();
    run = undefined;
  }, 60_000);
});
