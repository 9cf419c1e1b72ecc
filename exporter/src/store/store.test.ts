import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { email, storeSuite } from '../../../test/support/store-suite.js';
import { openStore, type Store } from './index.js';
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

// The interface's cases, shared with the PostgreSQL driver (test/integration/store-postgres.test.ts).
storeSuite('sqlite', () => openStore({ path: ':memory:' }));

describe('Store (SQLite only: its file, pragmas and one connection)', () => {
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

});
