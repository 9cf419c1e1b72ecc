import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { recordFailure } from '../lifecycle/failure.js';
import { alertTargets } from '../policy/failure.js';
import { openStore, RUN_HISTORY, type Store } from './index.js';
import type { IngestedEmail } from './index.js';
import { MIGRATIONS } from './sqlite/migrations.js';

const stores: Store[] = [];
async function open(file = ':memory:'): Promise<Store> {
  const s = await openStore({ path: file });
  stores.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const tempFile = (name: string) => path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-store-')), name);

function email(uid: number, body: string): IngestedEmail {
  const raw = Buffer.from(`Subject: ${body}\r\n\r\n${body}\r\n`);
  return {
    uid,
    raw,
    sha256: createHash('sha256').update(raw).digest(),
    headers: { messageId: `<${body}@x>`, from: 'a@x', to: 'b@x', cc: null, subject: body, sentAt: 1_000 },
  };
}

describe('Store', () => {
  it('migrates a new file to the latest version and reopens it without change', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-store-')), 'nested', 'db.sqlite');
    await (await open(file)).close();
    const again = await open(file);
    expect(await again.schemaVersion()).toBe(MIGRATIONS.length);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('refuses a store written by a newer mailsync', async () => {
    const file = tempFile('db.sqlite');
    await (await open(file)).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    await expect(open(file)).rejects.toThrow(/is newer than this mailsync/);
  });

  it('stores a batch and its cursor together', async () => {
    const s = await open();
    const out = await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 3, emails: [email(1, 'a'), email(3, 'b')], failures: [], at: 5 });
    expect(out).toEqual({ inserted: 2, alreadyStored: 0 });
    expect(await s.mail.getCursor('m', 'INBOX')).toEqual({ uidvalidity: 7, lastUid: 3 });
    expect((await s.mail.listEmails('m')).map((e) => [e.subject, e.messageId, e.size])).toEqual([['a', '<a@x>', 17], ['b', '<b@x>', 17]]);
    expect((await s.mail.getRawEmail((await s.mail.listEmails('m'))[0]!.id))?.toString()).toBe('Subject: a\r\n\r\na\r\n');
  });

  it('keeps one email per content even when seen in another folder or under a new UIDVALIDITY', async () => {
    const s = await open();
    await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 1 });
    const again = await s.mail.commitBatch({ mailboxId: 'm', folder: 'Archive', uidvalidity: 9, lastUid: 4, emails: [email(4, 'a')], failures: [], at: 2 });
    const recreated = await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 8, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 3 });
    expect([again, recreated]).toEqual([{ inserted: 0, alreadyStored: 1 }, { inserted: 0, alreadyStored: 1 }]);
    expect(await s.mail.countEmails('m')).toBe(1);
    expect((await s.mail.emailLocations('m')).map((l) => `${l.folder}/${l.uidvalidity}/${l.uid}`)).toEqual(['Archive/9/4', 'INBOX/7/1', 'INBOX/8/1']);
    // Another mailbox holding the same bytes gets its own record.
    await s.mail.commitBatch({ mailboxId: 'n', folder: 'INBOX', uidvalidity: 1, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 4 });
    expect(await s.mail.countEmails('n')).toBe(1);
  });

  it('rolls back the emails when the cursor write fails, leaving no partial batch', async () => {
    const file = tempFile('db.sqlite');
    const s = await open(file);
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER boom BEFORE INSERT ON folder_cursor BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    raw.close();
    await expect(s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 2, emails: [email(1, 'a')], failures: [], at: 1 })).rejects.toThrow('disk full');
    expect(await s.mail.countEmails('m')).toBe(0);
    expect(await s.mail.getCursor('m', 'INBOX')).toBeUndefined();
  });

  it('records item failures once per item and code, counting repeats', async () => {
    const s = await open();
    const bad = email(2, 'broken');
    for (const at of [10, 20]) {
      await s.mail.commitBatch({
        mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 3, at,
        emails: [bad],
        failures: [
          { uid: 2, code: 'item_parse_failed', detail: 'no header separator', size: bad.raw.length },
          { uid: 3, code: 'item_too_large', detail: 'message is 30000000 bytes', size: 30_000_000 },
        ],
      });
    }
    const failures = await s.mail.listItemFailures('m');
    expect(failures.map((f) => [f.uid, f.code, f.count, f.firstSeenAt, f.lastSeenAt, f.emailId !== null])).toEqual([
      [2, 'item_parse_failed', 2, 10, 20, true],
      [3, 'item_too_large', 2, 10, 20, false],
    ]);
  });

  it('folds runs into the direction state: failures count up, a success resets them', async () => {
    const s = await open();
    const r1 = await s.runs.startRun('m', 'incoming', 100, false);
    await s.runs.finishRun(r1, { result: 'failure', at: 110, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'ECONNREFUSED' });
    const r2 = await s.runs.startRun('m', 'incoming', 200, false);
    await s.runs.finishRun(r2, { result: 'failure', at: 210, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'ECONNREFUSED' });
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', consecutiveFailures: 2, lastFailureAt: 210, lastErrorCode: 'connect_failed' });
    const r3 = await s.runs.startRun('m', 'incoming', 300, false);
    await s.runs.finishRun(r3, { result: 'success', at: 320, itemsProcessed: 5, itemsFailed: 1 });
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({
      status: 'success', consecutiveFailures: 0, lastSuccessAt: 320, lastRunStartedAt: 300, itemsProcessedTotal: 5, itemsFailedTotal: 1,
    });
    expect((await s.runs.listRuns('m')).map((r) => r.result)).toEqual(['success', 'failure', 'failure']);
  });

  it('keeps failures longer than successes in the run history', async () => {
    const s = await open();
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      await s.runs.finishRun(await s.runs.startRun('m', 'incoming', i, false), { result: i % 2 ? 'failure' : 'success', at: i, itemsProcessed: 0, itemsFailed: 0 });
    }
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 100 + i, false), { result: 'success', at: 100 + i, itemsProcessed: 0, itemsFailed: 0 });
    }
    const runs = await s.runs.listRuns('m', 1_000);
    expect(runs.filter((r) => r.result === 'success')).toHaveLength(RUN_HISTORY.successes);
    expect(runs.filter((r) => r.result === 'failure')).toHaveLength(12);
  });

  it('closes runs left open by a crash as aborted', async () => {
    const s = await open();
    await s.runs.startRun('m', 'incoming', 1, false);
    expect(await s.runs.abortUnfinishedRuns(50)).toBe(1);
    expect((await s.runs.listRuns('m'))[0]).toMatchObject({ result: 'aborted', finishedAt: 50 });
  });

  it('upgrades a version 1 store in place, keeping its state', async () => {
    const file = tempFile('v1.sqlite');
    const v1 = new Database(file);
    v1.exec(MIGRATIONS[0] as string);
    v1.pragma('user_version = 1');
    v1.prepare(`INSERT INTO mailbox_direction_state (mailbox_id, direction, status, consecutive_failures) VALUES ('m', 'incoming', 'failure', 3)`).run();
    v1.close();
    const s = await open(file);
    expect(await s.schemaVersion()).toBe(MIGRATIONS.length);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', consecutiveFailures: 3, disabled: false, disabledCode: null });
  });

  it('keeps a failure\'s alert records and disable with the run, in one transaction', async () => {
    const s = await open();
    const fail = (mailboxId: string, at: number, scope: 'server' | 'mailbox', disable: boolean) => s.transaction(async (tx) => {
      const code = scope === 'server' ? 'connect_failed' : 'mailbox_not_found';
      const message = `refused at ${at}`;
      await tx.runs.finishRun(await tx.runs.startRun(mailboxId, 'incoming', at, false), {
        result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: code, errorMessage: message,
        failure: { class: 'transient', scope, nextAttemptAt: disable ? null : at + 300 },
      });
      await recordFailure(tx, {
        mailboxId, direction: 'incoming', code, class: 'transient', scope, message, at,
        alerts: alertTargets(scope, mailboxId, 'p'), disableBy: disable ? 'system' : null,
      });
    });
    await fail('m', 10, 'server', false);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, nextAttemptAt: 310, lastErrorClass: 'transient', lastErrorScope: 'server' });
    await fail('m', 20, 'server', true);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: true, disabledCode: 'connect_failed', disabledBy: 'system', disabledAt: 20, nextAttemptAt: null });
    expect(await s.lifecycle.alerts('mailbox', 'm')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, firstSeenAt: 10, lastSeenAt: 20, message: 'refused at 20' })]);
    expect(await s.lifecycle.alerts('profile', 'p')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, mailboxId: 'm' })]);
    // A mailbox-scoped failure is not the profile's.
    await fail('n', 30, 'mailbox', true);
    expect(await s.lifecycle.alerts('profile', 'p')).toHaveLength(1);
    expect(await s.lifecycle.countFailedSince(['m', 'n', 'o'], 15)).toBe(2);
    expect(await s.lifecycle.countFailedSince(['m', 'n', 'o'], 25)).toBe(1);
    await s.lifecycle.enable('m', 'incoming');
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, disabledCode: null, consecutiveFailures: 0 });
  });

  it('rolls a transaction back as a whole when its body fails', async () => {
    const s = await open();
    await expect(s.transaction(async (tx) => {
      await tx.lifecycle.setApproval('m', 'approved', 'ann', 'operator', 1);
      throw new Error('half-way');
    })).rejects.toThrow('half-way');
    expect((await s.lifecycle.get('m')).approval).toBe('empty');
  });

  it('makes other callers wait while a transaction is open, so nothing joins it by accident', async () => {
    const s = await open();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const order: string[] = [];
    const tx = s.transaction(async (t) => {
      await t.lifecycle.setApproval('m', 'approved', 'ann', 'operator', 1);
      await held;
      order.push('tx body done');
      throw new Error('rolled back');
    });
    // Issued while the transaction is open: it must not land inside it (and be rolled back with it).
    const outside = s.lifecycle.setApproval('n', 'approved', 'bob', 'operator', 2).then(() => order.push('outside write'));
    release();
    await expect(tx).rejects.toThrow('rolled back');
    await outside;
    expect(order).toEqual(['tx body done', 'outside write']);
    expect((await s.lifecycle.get('m')).approval).toBe('empty');
    expect((await s.lifecycle.get('n')).approval).toBe('approved');
  });

  it('counts a run as a retry only when policy says it is one', async () => {
    const s = await open();
    await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 1, false), { result: 'success', at: 2, itemsProcessed: 0, itemsFailed: 0 });
    await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 3, true), { result: 'success', at: 4, itemsProcessed: 0, itemsFailed: 0 });
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ retriesTotal: 1 });
  });
});
