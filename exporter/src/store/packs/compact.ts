import { readdirSync, statSync } from 'node:fs';
import { truncate, unlink } from 'node:fs/promises';
import type { PackRef, PackWriter } from './writer.js';
import type { PackReader } from './reader.js';

/** What compaction and the check need from a store driver: the pack rows and the rows pointing into them. */
export interface PackIndex {
  packIds(): Promise<number[]>;
  usage(): Promise<{ packId: number; referencedBytes: number; end: number }[]>;
  refsIn(packId: number): Promise<{ id: number; ref: PackRef }[]>;
  moveRefs(moves: { id: number; ref: PackRef }[]): Promise<void>;
  drop(packId: number): Promise<void>;
}

export interface CompactionReport {
  packs: number;
  /** Packs nothing pointed into, removed. */
  removed: number;
  /** Unreferenced tails cut off (what a crash between a pack write and its commit leaves). */
  truncatedBytes: number;
  /** Packs whose live ranges were copied to a new pack because most of them was unreferenced. */
  rewritten: number;
  freedBytes: number;
}

/** A pack is rewritten when at least this share of it (before its tail) is unreferenced. */
export const REWRITE_SHARE = 0.25;
/** Live ranges are copied in writes of about this size. */
const COPY_BYTES = 8 * 1024 * 1024;

/**
 * Removes the bytes nothing points at. Runs when the runner starts, before anything is ingested:
 * no append is in flight then, so every unreferenced byte is garbage for good (packs are never
 * appended to by a later life; packs/writer.ts). Each step keeps "no row points at missing bytes":
 * a pack's row is dropped before its file goes; a rewrite syncs the copies before the rows move,
 * and removes the old file only after they have. A crash in between leaves an unreferenced pack,
 * removed by the next start.
 */
export async function compactPacks(index: PackIndex, reader: PackReader, writer: PackWriter, dir: string): Promise<CompactionReport> {
  const report: CompactionReport = { packs: 0, removed: 0, truncatedBytes: 0, rewritten: 0, freedBytes: 0 };
  const known = new Set(await index.packIds());
  // A file without a pack row: its row was dropped and the removal did not happen (a crash).
  for (const name of listPackFiles(dir)) {
    if (known.has(name.id)) continue;
    report.freedBytes += statSync(name.file).size;
    await unlink(name.file);
    report.removed += 1;
  }
  for (const u of await index.usage()) {
    if (u.packId === writer.activeId) continue;
    report.packs += 1;
    const file = reader.file(u.packId);
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (u.referencedBytes === 0) {
      await index.drop(u.packId);
      reader.forget(u.packId);
      if (size !== undefined) await unlink(file);
      report.removed += 1;
      report.freedBytes += size ?? 0;
      continue;
    }
    // A missing or short file is the store check's finding: compaction never touches it.
    if (size === undefined || size < u.end) continue;
    if (size > u.end) {
      await truncate(file, u.end);
      report.truncatedBytes += size - u.end;
      report.freedBytes += size - u.end;
    }
    if ((u.end - u.referencedBytes) / u.end >= REWRITE_SHARE) {
      await rewrite(u.packId, index, reader, writer);
      await index.drop(u.packId);
      reader.forget(u.packId);
      await unlink(file);
      report.rewritten += 1;
      report.freedBytes += u.end - u.referencedBytes;
    }
  }
  return report;
}

async function rewrite(packId: number, index: PackIndex, reader: PackReader, writer: PackWriter): Promise<void> {
  const refs = await index.refsIn(packId);
  for (let i = 0; i < refs.length;) {
    const chunk: { id: number; ref: PackRef }[] = [];
    let bytes = 0;
    while (i < refs.length && (chunk.length === 0 || bytes < COPY_BYTES)) {
      const r = refs[i++] as { id: number; ref: PackRef };
      chunk.push(r);
      bytes += r.ref.length;
    }
    const copies = await writer.append(chunk.map((r) => reader.read(r.ref)));
    await index.moveRefs(chunk.map((r, k) => ({ id: r.id, ref: copies[k] as PackRef })));
  }
}

/** The pack files in `dir` by id (names as packs/writer.ts gives them). */
export function listPackFiles(dir: string): { id: number; file: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.flatMap((n) => {
    const m = /^(\d{8,})\.pack$/.exec(n);
    return m ? [{ id: Number(m[1]), file: `${dir}/${n}` }] : [];
  });
}
