import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { PackRef } from './writer.js';
import { MissingPackBytesError, type PackReader } from './reader.js';

/** One stored email's raw bytes as the check reads them: inline in its row, or a range of a pack. */
export interface RawRowSource {
  countEmails(): Promise<number>;
  rawRows(afterId: number, limit: number): Promise<{ id: number; mailboxId: string; sha256: Buffer; inline: Buffer | null; ref: PackRef | null }[]>;
  usage(): Promise<{ packId: number; referencedBytes: number; end: number }[]>;
}

export interface RawCheckReport {
  emails: number;
  inPacks: number;
  problems: string[];
  /** Bytes in packs that no row points at (compaction removes them at the next start). */
  unreferencedBytes: number;
}

const PAGE = 500;

/**
 * Reads every stored email's raw bytes and compares their SHA-256 with the row's: every range a
 * row points at must exist in its pack and hold those bytes. `progress` is called every page
 * with the emails checked so far and the total. Safe beside a runner's start-up compaction: a row
 * whose bytes moved while the check ran is checked where it points now (checkCurrent).
 */
export async function checkRawBytes(source: RawRowSource, reader: PackReader, progress: (done: number, total: number) => void): Promise<RawCheckReport> {
  const report: RawCheckReport = { emails: 0, inPacks: 0, problems: [], unreferencedBytes: 0 };
  const total = await source.countEmails();
  for (let after = 0; ;) {
    const rows = await source.rawRows(after, PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      report.emails += 1;
      if (row.ref) report.inPacks += 1;
      const problem = await checkCurrent(row, source, reader);
      if (problem) report.problems.push(`email ${row.id} (mailbox ${row.mailboxId}): ${problem}`);
    }
    after = (rows[rows.length - 1] as { id: number }).id;
    progress(report.emails, total);
  }
  for (const u of await source.usage()) {
    const size = statSync(reader.file(u.packId), { throwIfNoEntry: false })?.size ?? 0;
    report.unreferencedBytes += Math.max(0, size - u.referencedBytes);
  }
  return report;
}

type RawRow = Awaited<ReturnType<RawRowSource['rawRows']>>[number];

/**
 * A row's problem, judged by where the row points now. A runner starting beside the check may
 * compact its packs: a rewrite moves rows to a new pack, then removes the old file, so a range
 * read from a page a moment ago can be gone while the row is fine. A range that fails is read
 * again once from the row as it is now; a row deleted meanwhile has nothing left to check.
 */
async function checkCurrent(row: RawRow, source: RawRowSource, reader: PackReader): Promise<string | undefined> {
  const problem = checkRow(row, reader);
  if (problem === undefined || row.ref === null) return problem;
  const [now] = await source.rawRows(row.id - 1, 1);
  if (now?.id !== row.id) return undefined;
  if (now.ref !== null && samePlace(now.ref, row.ref)) return problem;
  return checkRow(now, reader);
}

const samePlace = (a: PackRef, b: PackRef) => a.packId === b.packId && a.offset === b.offset && a.length === b.length;

function checkRow(row: { sha256: Buffer; inline: Buffer | null; ref: PackRef | null }, reader: PackReader): string | undefined {
  let bytes: Buffer;
  try {
    bytes = row.inline ?? reader.read(row.ref as PackRef);
  } catch (error) {
    if (error instanceof MissingPackBytesError) return error.message;
    throw error;
  }
  const sha = createHash('sha256').update(bytes).digest();
  if (!sha.equals(row.sha256)) return `SHA-256 of the bytes is ${sha.toString('hex')}, the row says ${row.sha256.toString('hex')}`;
  return undefined;
}
