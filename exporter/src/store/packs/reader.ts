import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { packFileName, type PackRef } from './writer.js';

/** Above this, a raw message is streamed from its pack instead of read into one buffer. */
const STREAM_FROM_BYTES = 1024 * 1024;

/** A referenced range that is not (all) there: the store check's finding, and a read's error. */
export class MissingPackBytesError extends Error {
  constructor(readonly ref: PackRef, readonly file: string, detail: string) {
    super(`pack ${ref.packId} (${file}): bytes ${ref.offset}..${ref.offset + ref.length} ${detail}`);
  }
}

/** Reads ranges out of pack files, keeping each pack's file open once it has been read. */
export class PackReader {
  readonly #dir: string;
  readonly #handles = new Map<number, Promise<FileHandle>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  file(packId: number): string {
    return path.join(this.#dir, packFileName(packId));
  }

  async read(ref: PackRef): Promise<Buffer> {
    const handle = await this.#handle(ref);
    const buffer = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const { bytesRead } = await handle.read(buffer, done, ref.length - done, ref.offset + done);
      if (bytesRead === 0) throw new MissingPackBytesError(ref, this.file(ref.packId), `end at ${ref.offset + done}: the pack is shorter`);
      done += bytesRead;
    }
    return buffer;
  }

  /** The range as a stream: one buffer for typical mail, a file stream for large messages. */
  async open(ref: PackRef): Promise<Readable> {
    if (ref.length < STREAM_FROM_BYTES) return Readable.from([await this.read(ref)], { objectMode: false });
    await this.#handle(ref);
    return createReadStream(this.file(ref.packId), { start: ref.offset, end: ref.offset + ref.length - 1 });
  }

  /** Forgets a pack's open file (compaction removed or rewrote it). */
  async forget(packId: number): Promise<void> {
    const handle = this.#handles.get(packId);
    this.#handles.delete(packId);
    await handle?.then((h) => h.close(), () => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#handles.keys()].map((id) => this.forget(id)));
  }

  #handle(ref: PackRef): Promise<FileHandle> {
    let handle = this.#handles.get(ref.packId);
    if (!handle) {
      const file = this.file(ref.packId);
      handle = open(file, 'r').catch((error: NodeJS.ErrnoException) => {
        this.#handles.delete(ref.packId);
        throw error.code === 'ENOENT' ? new MissingPackBytesError(ref, file, 'missing: the pack file does not exist') : error;
      });
      this.#handles.set(ref.packId, handle);
    }
    return handle;
  }
}
