import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Where a message's raw bytes sit: a pack file, and the range in it. */
export interface PackRef {
  packId: number;
  offset: number;
  length: number;
}

/** How the writer asks the store for a new pack row (committed before the file exists). */
export type RegisterPack = () => Promise<number>;

/** Packs are sealed at this size and a new one is started: compaction rewrites at most one pack's worth. */
export const DEFAULT_PACK_BYTES = 256 * 1024 * 1024;

export function packFileName(id: number): string {
  return `${String(id).padStart(8, '0')}.pack`;
}

/**
 * Appends raw messages to pack files: one write and one fdatasync per batch, before the batch's
 * rows are committed. So a row can only ever point at bytes already on disk; a crash between the
 * two leaves bytes nothing points at, which compaction removes (packs/compact.ts).
 *
 * Each process life starts a new pack and never appends to an older one: the tail a crashed life
 * left unreferenced is never written behind, so compaction at start may cut it off safely.
 * Appends are serialised, so ranges in a pack are contiguous and in commit order.
 */
export class PackWriter {
  readonly #dir: string;
  readonly #register: RegisterPack;
  readonly #maxBytes: number;
  #active: { id: number; handle: FileHandle; size: number } | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(dir: string, register: RegisterPack, maxBytes = DEFAULT_PACK_BYTES) {
    this.#dir = dir;
    this.#register = register;
    this.#maxBytes = maxBytes;
  }

  /** Writes `raws` to the active pack and syncs them; resolves with where each one landed. */
  append(raws: Buffer[]): Promise<PackRef[]> {
    const run = this.#chain.then(() => this.#append(raws));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The pack this life appends to, if it has started one (compaction leaves it alone). */
  get activeId(): number | undefined {
    return this.#active?.id;
  }

  async close(): Promise<void> {
    await this.#chain;
    const active = this.#active;
    this.#active = undefined;
    await active?.handle.close();
  }

  async #append(raws: Buffer[]): Promise<PackRef[]> {
    if (raws.length === 0) return [];
    const total = raws.reduce((n, r) => n + r.length, 0);
    if (!this.#active || (this.#active.size > 0 && this.#active.size + total > this.#maxBytes)) await this.#rotate();
    const pack = this.#active as { id: number; handle: FileHandle; size: number };
    const start = pack.size;
    // Reserve the range first: a failed write leaves a gap nobody points at, never an overlap.
    pack.size += total;
    await writeAll(pack.handle, raws, start);
    await pack.handle.datasync();
    const refs: PackRef[] = [];
    let offset = start;
    for (const r of raws) {
      refs.push({ packId: pack.id, offset, length: r.length });
      offset += r.length;
    }
    return refs;
  }

  async #rotate(): Promise<void> {
    const old = this.#active;
    this.#active = undefined;
    await old?.handle.close();
    mkdirSync(this.#dir, { recursive: true });
    const id = await this.#register();
    const file = path.join(this.#dir, packFileName(id));
    // 'wx': a pack is created once; an existing file of that name is an error, not something to overwrite.
    const handle = await open(file, 'wx');
    await syncDirectory(this.#dir);
    this.#active = { id, handle, size: 0 };
  }
}

/** writev may write less than asked (large batches): go on from where it stopped. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      next.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
}

/** A new file's name is durable only once its directory is synced (a power cut could lose it otherwise). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
