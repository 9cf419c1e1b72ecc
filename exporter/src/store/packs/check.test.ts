import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRawBytes, type RawRowSource } from './check.js';
import { PackReader } from './reader.js';
import { PackWriter, type PackRef } from './writer.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest();

/** Rows as the store would serve them: `page` is what a page read saw, `now` what the row says when read again. */
function source(rows: { id: number; raw: Buffer; page: PackRef; now: PackRef | 'deleted' }[]): RawRowSource {
  return {
    countEmails: () => Promise.resolve(rows.length),
    usage: () => Promise.resolve([]),
    rawRows(after, limit) {
      const row = (r: (typeof rows)[number], ref: PackRef) => ({ id: r.id, mailboxId: 'm', sha256: sha(r.raw), inline: null, ref });
      if (limit > 1) return Promise.resolve(after === 0 ? rows.map((r) => row(r, r.page)) : []);
      const next = rows.filter((r) => r.id > after && r.now !== 'deleted')[0];
      return Promise.resolve(next ? [row(next, next.now as PackRef)] : []);
    },
  };
}

describe('the store check beside a compaction', () => {
  it('checks a row whose bytes moved to another pack where it points now, and still reports bytes that are gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-check-'));
    const raws = ['moved', 'lost', 'deleted', 'kept'].map((s) => Buffer.from(`Subject: ${s}\r\n\r\n${s}\r\n`));
    const [first, second] = [new PackWriter(dir, () => Promise.resolve(1)), new PackWriter(dir, () => Promise.resolve(2))];
    const old = await first.append(raws);
    const copied = await second.append(raws);
    await Promise.all([first.close(), second.close()]);
    // The compaction's rewrite: rows moved to pack 2, then pack 1 removed, after the check read its page.
    rmSync(new PackReader(dir).file(1));
    const at = (i: number) => ({ id: i + 1, raw: raws[i] as Buffer, page: old[i] as PackRef });
    const reader = new PackReader(dir);
    const report = await checkRawBytes(source([
      { ...at(0), now: copied[0] as PackRef },
      { ...at(1), now: old[1] as PackRef },
      { ...at(2), now: 'deleted' },
      { ...at(3), page: copied[3] as PackRef, now: copied[3] as PackRef },
    ]), reader, () => undefined);
    reader.close();
    expect(report.emails).toBe(4);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^email 2 \(mailbox m\): /);
    rmSync(dir, { recursive: true, force: true });
  });
});
