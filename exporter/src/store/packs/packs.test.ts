import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, SqliteStore, type IngestedEmail, type Store } from '../index.js';
import { PackWriter } from './writer.js';

const stores: Store[] = [];
/** `inline`: a store that keeps raw bytes in its rows, as every store did before packs. */
async function open(file: string, inline = false): Promise<Store> {
  const s = inline ? new SqliteStore({ path: file, packDir: null }) : await openStore({ path: file });
  stores.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function email(uid: number, body: string): IngestedEmail {
  const raw = Buffer.from(`Subject: ${body}\r\n\r\n${body}\r\n`);
  return { uid, raw, sha256: createHash('sha256').update(raw).digest(), headers: { messageId: `<${body}@x>`, from: 'a@x', to: null, cc: null, subject: body, sentAt: null } };
}
const batch = (lastUid: number, emails: IngestedEmail[]) => ({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid, emails, failures: [], at: 1 });
const packBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
const noProgress = () => undefined;

function tempStore(): { file: string; packs: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailsync-packs-')), 'mailsync.db');
  return { file, packs: `${file}.packs` };
}

describe('raw bytes in pack files', () => {
  it('writes new messages to a pack next to the store, rows point at them, reads give the same bytes', async () => {
    const { file, packs } = tempStore();
    const s = await open(file);
    await s.mail.commitBatch(batch(2, [email(1, 'alpha'), email(2, 'beta')]));
    const [a, b] = await s.mail.listEmails('m');
    expect((await s.mail.getRawEmail(a!.id))?.toString()).toBe('Subject: alpha\r\n\r\nalpha\r\n');
    expect(await text((await s.mail.openRaw(b!.id))!)).toBe('Subject: beta\r\n\r\nbeta\r\n');
    expect(packBytes(packs)).toBe(a!.size + b!.size);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT length(raw) AS n, pack_id IS NOT NULL AS packed FROM email').all()).toEqual([{ n: 0, packed: 1 }, { n: 0, packed: 1 }]);
    db.close();
    expect(await s.mail.openRaw(999)).toBeUndefined();
  });

  it('writes the bytes of content already stored (a re-fetch, the same message twice) only once', async () => {
    const { file, packs } = tempStore();
    const s = await open(file);
    await s.mail.commitBatch(batch(2, [email(1, 'same'), email(2, 'same')]));
    await s.mail.commitBatch(batch(3, [email(3, 'same')]));
    expect(await s.mail.countEmails('m')).toBe(1);
    expect(packBytes(packs)).toBe(email(1, 'same').raw.length);
  });

  it('bytes written but never committed (a crash between the two) are unreferenced; compaction cuts them off', async () => {
    const { file, packs } = tempStore();
    const s = await open(file);
    await s.mail.commitBatch(batch(1, [email(1, 'kept')]));
    await s.close();
    // What a killed runner leaves: its pack row committed, bytes synced, the batch's rows not.
    const db = new Database(file);
    const writer = new PackWriter(packs, async () => Number(db.prepare('INSERT INTO pack (created_at) VALUES (1)').run().lastInsertRowid));
    await writer.append([email(2, 'lost').raw]);
    await writer.close();
    db.close();
    const again = await open(file);
    const before = await again.check(noProgress);
    expect(before).toMatchObject({ emails: 1, problems: [], integrity: [], unreferencedBytes: email(2, 'lost').raw.length });
    expect(await again.compact()).toMatchObject({ removed: 1, freedBytes: email(2, 'lost').raw.length });
    expect(await again.check(noProgress)).toMatchObject({ problems: [], unreferencedBytes: 0 });
    expect((await again.mail.getRawEmail((await again.mail.listEmails('m'))[0]!.id))?.toString()).toContain('kept');
  });

  it('cuts an unreferenced tail and rewrites a pack that is mostly unreferenced, keeping every referenced byte', async () => {
    const { file, packs } = tempStore();
    const s = await open(file);
    const emails = Array.from({ length: 8 }, (_, i) => email(i + 1, `message-${i}`.repeat(50)));
    await s.mail.commitBatch(batch(8, emails));
    await s.close();
    const db = new Database(file);
    // Rows 2-5 gone (as if never committed) and the last one too: interior garbage and a tail.
    db.exec('DELETE FROM email_location WHERE email_id IN (2, 3, 4, 5, 8); DELETE FROM email WHERE id IN (2, 3, 4, 5, 8)');
    db.close();
    const again = await open(file);
    const report = await again.compact();
    expect(report.truncatedBytes).toBe(emails[7]!.raw.length);
    expect(report.rewritten).toBe(1);
    const left = await again.mail.listEmails('m');
    expect(left.map((e) => e.subject)).toEqual([0, 5, 6].map((i) => `message-${i}`.repeat(50)));
    for (const e of left) expect((await again.mail.getRawEmail(e.id))?.toString()).toContain(e.subject!);
    expect(packBytes(packs)).toBe(left.reduce((n, e) => n + e.size, 0));
    expect(await again.check(noProgress)).toMatchObject({ problems: [], unreferencedBytes: 0 });
  });

  it('the check finds a changed byte and a pack cut short, naming the email and the pack', async () => {
    const { file, packs } = tempStore();
    const s = await open(file);
    await s.mail.commitBatch(batch(2, [email(1, 'one'), email(2, 'two')]));
    const pack = path.join(packs, readdirSync(packs)[0]!);
    const bytes = readFileSync(pack);
    bytes[3] = 0x58;
    writeFileSync(pack, bytes.subarray(0, bytes.length - 2));
    const report = await s.check(noProgress);
    expect(report.problems).toHaveLength(2);
    expect(report.problems[0]).toMatch(/^email 1 \(mailbox m\): SHA-256 of the bytes is [0-9a-f]{64}, the row says/);
    expect(report.problems[1]).toMatch(/^email 2 \(mailbox m\): pack 1 \(.*00000001\.pack\): bytes \d+\.\.\d+ end at \d+: the pack is shorter/);
  });

  it('rows of a store from before packs keep their inline bytes and read as before', async () => {
    const { file, packs } = tempStore();
    const inline = await open(file, true);
    await inline.mail.commitBatch(batch(1, [email(1, 'old')]));
    await inline.close();
    const s = await open(file);
    await s.mail.commitBatch(batch(2, [email(2, 'new')]));
    const [old, fresh] = await s.mail.listEmails('m');
    expect((await s.mail.getRawEmail(old!.id))?.toString()).toContain('old');
    expect(await text((await s.mail.openRaw(old!.id))!)).toContain('old');
    expect((await s.mail.getRawEmail(fresh!.id))?.toString()).toContain('new');
    expect(packBytes(packs)).toBe(fresh!.size);
    expect(await s.check(noProgress)).toMatchObject({ emails: 2, inPacks: 1, problems: [] });
  });
});
