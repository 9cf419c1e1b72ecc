import type { Readable } from 'node:stream';
import { checkRawBytes, type RawCheckReport } from '../packs/check.js';
import { compactPacks, type CompactionReport } from '../packs/compact.js';
import { PackReader } from '../packs/reader.js';
import { PackWriter } from '../packs/writer.js';
import type { BatchOutcome, FolderBatch } from '../types.js';
import { promised } from './gate.js';
import type { PackedBytes, RawLocation, SqliteMail } from './mail.js';
import type { SqlitePacks } from './packs.js';

type Call = <R>(fn: () => R) => Promise<R>;

/**
 * Where incoming mail's raw bytes go: pack files in `dir` (one write and one sync per batch,
 * then the rows, pointing at them, commit with the cursor), or inline in the rows when there is
 * no directory (an in-memory store). Reads serve both, so rows from before packs read as before.
 */
export class RawBytes {
  readonly dir: string | null;
  readonly #mail: SqliteMail;
  readonly #packs: SqlitePacks;
  readonly #writer: PackWriter | undefined;
  readonly #reader: PackReader | undefined;

  constructor(dir: string | null, mail: SqliteMail, packs: SqlitePacks, call: Call, now: () => number) {
    this.dir = dir;
    this.#mail = mail;
    this.#packs = packs;
    if (dir !== null) {
      this.#writer = new PackWriter(dir, () => call(() => packs.register(now())));
      this.#reader = new PackReader(dir);
    }
  }

  async commitBatch(batch: FolderBatch, call: Call): Promise<BatchOutcome> {
    const writer = this.#writer;
    if (!writer) return call(() => this.#mail.commitBatch(batch));
    const fresh = await call(() => this.#mail.unstored(batch.mailboxId, batch.emails));
    // Synced before the rows commit: a row can never point at bytes that are not on disk.
    const refs = await writer.append(fresh.map((e) => e.raw));
    const packed: PackedBytes = new Map(fresh.map((e, i) => [e.sha256.toString('hex'), refs[i]!]));
    return call(() => this.#mail.commitBatch(batch, packed));
  }

  async read(id: number, call: Call): Promise<Buffer | undefined> {
    const at = await call(() => this.#mail.rawLocation(id));
    return at && this.#bytes(at);
  }

  /** A stream of the bytes: from the pack file, or from the row in slices, so a large email is never held whole. */
  async open(id: number, call: Call): Promise<Readable | undefined> {
    const at = await call(() => this.#mail.rawPlace(id));
    if (!at) return undefined;
    if (at === 'inline') return call(() => this.#mail.openInlineRaw(id));
    return (this.#reader as PackReader).open(at.ref);
  }

  /** Unreferenced pack bytes removed (packs/compact.ts); nothing to do for inline bytes. */
  async compact(call: Call): Promise<CompactionReport> {
    if (!this.#writer || !this.#reader || this.dir === null) return { packs: 0, removed: 0, truncatedBytes: 0, rewritten: 0, freedBytes: 0 };
    return compactPacks(promised(this.#packs, call), this.#reader, this.#writer, this.dir);
  }

  check(call: Call, progress: (done: number, total: number) => void): Promise<RawCheckReport> {
    return checkRawBytes(promised(this.#packs, call), this.#reader ?? new PackReader(this.dir ?? '.'), progress);
  }

  async close(): Promise<void> {
    await this.#writer?.close();
    this.#reader?.close();
  }

  #bytes(at: RawLocation): Buffer {
    return 'inline' in at ? at.inline : (this.#reader as PackReader).read(at.ref);
  }
}
