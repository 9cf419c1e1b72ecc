import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_HISTORY, Store } from './index.js';
import type { IngestedEmail } from './index.js';
import { MIGRATIONS } from './migrations.js';

const stores: Store[] = [];
function open(file = ':memory:'): Store {
  const s = new Store({ path: file });
  stores.push(s);
  return s;
}
afterEach(() => stores.splice(0).forEach((s) => s.close()));

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
  it('migrates a new file to the latest version and reopens it without change', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-store-')), 'nested', 'db.sqlite');
    open(file).close();
    const again = open(file);
    expect(again.schemaVersion()).toBe(MIGRATIONS.length);
    expect(again.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('refuses a store written by a newer mailsync', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-store-')), 'db.sqlite');
    const s = open(file);
    s.db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    s.close();
    expect(() => open(file)).toThrow(/is newer than this mailsync/);
  });

  it('stores a batch and its cursor together', () => {
    const s = open();
    const out = s.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 3, emails: [email(1, 'a'), email(3, 'b')], failures: [], at: 5 });
    expect(out).toEqual({ inserted: 2, alreadyStored: 0 });
    expect(s.getCursor('m', 'INBOX')).toEqual({ uidvalidity: 7, lastUid: 3 });
    expect(s.listEmails('m').map((e) => [e.subject, e.messageId, e.size])).toEqual([['a', '<a@x>', 17], ['b', '<b@x>', 17]]);
    expect(s.getRawEmail(s.listEmails('m')[0]!.id)?.toString()).toBe('Subject: a\r\n\r\na\r\n');
  });

  it('keeps one email per content even when seen in another folder or under a new UIDVALIDITY', () => {
    const s = open();
    s.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 1 });
    const again = s.commitBatch({ mailboxId: 'm', folder: 'Archive', uidvalidity: 9, lastUid: 4, emails: [email(4, 'a')], failures: [], at: 2 });
    const recreated = s.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 8, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 3 });
    expect([again, recreated]).toEqual([{ inserted: 0, alreadyStored: 1 }, { inserted: 0, alreadyStored: 1 }]);
    expect(s.countEmails('m')).toBe(1);
    expect(s.emailLocations('m').map((l) => `${l.folder}/${l.uidvalidity}/${l.uid}`)).toEqual(['Archive/9/4', 'INBOX/7/1', 'INBOX/8/1']);
    // Another mailbox holding the same bytes gets its own record.
    s.commitBatch({ mailboxId: 'n', folder: 'INBOX', uidvalidity: 1, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 4 });
    expect(s.countEmails('n')).toBe(1);
  });

  it('rolls back the emails when the cursor write fails, leaving no partial batch', () => {
    const s = open();
    s.db.exec(`CREATE TRIGGER boom BEFORE INSERT ON folder_cursor BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => s.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 2, emails: [email(1, 'a')], failures: [], at: 1 })).toThrow('disk full');
    expect(s.countEmails('m')).toBe(0);
    expect(s.getCursor('m', 'INBOX')).toBeUndefined();
  });

  it('records item failures once per item and code, counting repeats', () => {
    const s = open();
    const bad = email(2, 'broken');
    for (const at of [10, 20]) {
      s.commitBatch({
        mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 3, at,
        emails: [bad],
        failures: [
          { uid: 2, code: 'item_parse_failed', detail: 'no header separator', size: bad.raw.length },
          { uid: 3, code: 'item_too_large', detail: 'message is 30000000 bytes', size: 30_000_000 },
        ],
      });
    }
    const failures = s.listItemFailures('m');
    expect(failures.map((f) => [f.uid, f.code, f.count, f.firstSeenAt, f.lastSeenAt, f.emailId !== null])).toEqual([
      [2, 'item_parse_failed', 2, 10, 20, true],
      [3, 'item_too_large', 2, 10, 20, false],
    ]);
  });

  it('folds runs into the direction state: failures count up, a success resets them', () => {
    const s = open();
    const r1 = s.startRun('m', 'incoming', 100);
    s.finishRun(r1, { result: 'failure', at: 110, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'ECONNREFUSED' });
    const r2 = s.startRun('m', 'incoming', 200);
    s.finishRun(r2, { result: 'failure', at: 210, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'ECONNREFUSED' });
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', consecutiveFailures: 2, lastFailureAt: 210, lastErrorCode: 'connect_failed' });
    const r3 = s.startRun('m', 'incoming', 300);
    s.finishRun(r3, { result: 'success', at: 320, itemsProcessed: 5, itemsFailed: 1 });
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({
      status: 'success', consecutiveFailures: 0, lastSuccessAt: 320, lastRunStartedAt: 300, itemsProcessedTotal: 5, itemsFailedTotal: 1,
    });
    expect(s.listRuns('m').map((r) => r.result)).toEqual(['success', 'failure', 'failure']);
  });

  it('keeps failures longer than successes in the run history', () => {
    const s = open();
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      s.finishRun(s.startRun('m', 'incoming', i), { result: i % 2 ? 'failure' : 'success', at: i, itemsProcessed: 0, itemsFailed: 0 });
    }
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      s.finishRun(s.startRun('m', 'incoming', 100 + i), { result: 'success', at: 100 + i, itemsProcessed: 0, itemsFailed: 0 });
    }
    const runs = s.listRuns('m', 1_000);
    expect(runs.filter((r) => r.result === 'success')).toHaveLength(RUN_HISTORY.successes);
    expect(runs.filter((r) => r.result === 'failure')).toHaveLength(12);
  });

  it('closes runs left open by a crash as aborted', () => {
    const s = open();
    s.startRun('m', 'incoming', 1);
    expect(s.abortUnfinishedRuns(50)).toBe(1);
    expect(s.listRuns('m')[0]).toMatchObject({ result: 'aborted', finishedAt: 50 });
  });

  it('upgrades a version 1 store in place, keeping its state', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-store-')), 'v1.sqlite');
    const Database = (await import('better-sqlite3')).default;
    const v1 = new Database(file);
    v1.exec(MIGRATIONS[0] as string);
    v1.pragma('user_version = 1');
    v1.prepare(`INSERT INTO mailbox_direction_state (mailbox_id, direction, status, consecutive_failures) VALUES ('m', 'incoming', 'failure', 3)`).run();
    v1.close();
    const s = open(file);
    expect(s.schemaVersion()).toBe(MIGRATIONS.length);
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', consecutiveFailures: 3, disabled: false, disabledCode: null });
  });

  it('writes a failure\'s alert records and disable in the run\'s transaction', () => {
    const s = open();
    const fail = (at: number, scope: 'server' | 'mailbox', disable: boolean) => s.finishRun(s.startRun('m', 'incoming', at), {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: `refused at ${at}`,
      failure: { class: 'transient', scope, disable, nextAttemptAt: disable ? null : at + 300, profileId: 'p' },
    });
    fail(10, 'server', false);
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, nextAttemptAt: 310, lastErrorClass: 'transient', lastErrorScope: 'server' });
    fail(20, 'server', true);
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({ disabled: true, disabledCode: 'connect_failed', disabledBy: 'system', disabledAt: 20, nextAttemptAt: null });
    expect(s.lifecycle.alerts('mailbox', 'm')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, firstSeenAt: 10, lastSeenAt: 20, message: 'refused at 20' })]);
    expect(s.lifecycle.alerts('profile', 'p')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, mailboxId: 'm' })]);
    // A mailbox-scoped failure is not the profile's.
    s.finishRun(s.startRun('n', 'incoming', 30), {
      result: 'failure', at: 30, itemsProcessed: 0, itemsFailed: 0, errorCode: 'mailbox_not_found', errorMessage: 'x',
      failure: { class: 'permanent', scope: 'mailbox', disable: true, nextAttemptAt: null, profileId: 'p' },
    });
    expect(s.lifecycle.alerts('profile', 'p')).toHaveLength(1);
    expect(s.lifecycle.countFailedSince(['m', 'n', 'o'], 15)).toBe(2);
    expect(s.lifecycle.countFailedSince(['m', 'n', 'o'], 25)).toBe(1);
    s.lifecycle.enable('m', 'incoming');
    expect(s.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, disabledCode: null, consecutiveFailures: 0 });
  });
});
