import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
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

/**
 * Reads ranges out of pack files, keeping each pack's file open once it has been read. Reads of
 * typical mail are synchronous positional reads, as SQLite's own reads of an inline row are: a
 * read from the page cache takes microseconds, less than the thread-pool hop of an asynchronous
 * one (measured: docs/performance.md). Large messages are streamed.
 */
export class PackReader {
  readonly #dir: string;
  readonly #fds = new Map<number, number>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  file(packId: number): string {
    return path.join(this.#dir, packFileName(packId));
  }

  read(ref: PackRef): Buffer {
    const fd = this.#fd(ref);
    const buffer = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const bytesRead = readSync(fd, buffer, done, ref.length - done, ref.offset + done);
      if (bytesRead === 0) throw new MissingPackBytesError(ref, this.file(ref.packId), `end at ${ref.offset + done}: the pack is shorter`);
      done += bytesRead;
    }
    return buffer;
  }

  /** The range as a stream: one buffer for typical mail, a file stream for large messages. */
  open(ref: PackRef): Readable {
    if (ref.length < STREAM_FROM_BYTES) return Readable.from([this.read(ref)], { objectMode: false });
    this.#fd(ref);
    return createReadStream(this.file(ref.packId), { start: ref.offset, end: ref.offset + ref.length - 1 });
  }

  /** Forgets a pack's open file (compaction removed or rewrote it). */
  forget(packId: number): void {
    const fd = this.#fds.get(packId);
    this.#fds.delete(packId);
    if (fd !== undefined) closeSync(fd);
  }

  close(): void {
    for (const id of [...this.#fds.keys()]) this.forget(id);
  }

  #fd(ref: PackRef): number {
    let fd = this.#fds.get(ref.packId);
    if (fd === undefined) {
      const file = this.file(ref.packId);
      try {
        fd = openSync(file, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingPackBytesError(ref, file, 'missing: the pack file does not exist');
        throw error;
      }
      this.#fds.set(ref.packId, fd);
    }
    return fd;
  }
}
