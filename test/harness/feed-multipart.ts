/**
 * A consumer's reader of the change feed's `multipart/mixed` pages (docs/api.md, "Raw bytes"):
 * parts are read by their Content-Length, so nothing scans an email's bytes for the boundary; the
 * boundary is checked where each part must start. Used by the integration test (byte-identical
 * raw mail) and bench:feed (the consumer's side of the figure).
 */
export interface FeedPart {
  type: string;
  body: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);
const [CR, LF, DASH] = [13, 10, 45];

/** Where the blank line that ends a part's headers starts, or -1 when `data` does not hold it yet. */
function headersEnd(data: Buffer, from: number): number {
  for (let i = from; i + 3 < data.length; i++) if (data[i] === CR && data[i + 1] === LF && data[i + 2] === CR && data[i + 3] === LF) return i;
  return -1;
}

export function boundaryOf(contentType: string | null): string {
  const m = /^multipart\/mixed;\s*boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
  if (!m) throw new Error(`expected a multipart/mixed response with a boundary, got Content-Type ${contentType}`);
  return m[2]!;
}

/**
 * One page's parser, fed the body's chunks as they arrive (`push`) and handing each complete part
 * to `onPart` at once. Synchronous: a page of a thousand emails costs no promise per part. A part
 * inside one chunk is a view of it (no copy); only a part that spans chunks is copied, once, into
 * a buffer of its length.
 */
export class FeedPageReader {
  readonly #open: Buffer;
  readonly #onPart: (part: FeedPart) => void;
  /** Bytes not parsed yet: at most a boundary line and a part's headers. */
  #rest: Buffer = EMPTY;
  /** A part's body being gathered across chunks, with its closing CRLF. */
  #body: { type: string; bytes: Buffer; filled: number } | undefined;
  #done = false;

  constructor(boundary: string, onPart: (part: FeedPart) => void) {
    this.#open = Buffer.from(`--${boundary}`);
    this.#onPart = onPart;
  }

  /** True once the closing boundary was read. */
  get done(): boolean {
    return this.#done;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.#body) {
      data = this.#fill(this.#body, data);
      if (this.#body) return;
    }
    if (this.#rest.length > 0) data = Buffer.concat([this.#rest, data]);
    let at = 0;
    while (!this.#done) {
      const next = this.#part(data, at);
      if (next < 0) break;
      at = next;
    }
    this.#rest = this.#done || this.#body ? EMPTY : data.subarray(at);
  }

  /** The page ended: it must have ended with the closing boundary. */
  end(): void {
    if (!this.#done) throw new Error('the response ended inside a part');
  }

  /** Parses the part starting at `at`: where the next starts, or -1 when `data` does not hold its start. */
  #part(data: Buffer, at: number): number {
    const open = this.#open;
    if (data.length - at < open.length + 2) return -1;
    // Byte by byte in JavaScript: for a few dozen bytes, a native compare or indexOf costs more in its call than in its work.
    for (let i = 0; i < open.length; i++) if (data[at + i] !== open[i]) throw new Error('a part does not start with the boundary');
    const after = at + open.length;
    if (data[after] === DASH && data[after + 1] === DASH) {
      this.#done = true;
      return data.length;
    }
    if (data[after] !== CR || data[after + 1] !== LF) throw new Error(`unexpected ${JSON.stringify(data.toString('latin1', after, after + 2))} after the boundary`);
    const end = headersEnd(data, after + 2);
    if (end < 0) return -1;
    const headers = data.toString('latin1', after + 2, end);
    const type = /^content-type:\s*([^\r\n;]+)/im.exec(headers)?.[1]?.trim() ?? '';
    const length = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? NaN);
    if (!Number.isSafeInteger(length)) throw new Error(`a part has no Content-Length: ${headers}`);
    const start = end + 4;
    if (start + length + 2 <= data.length) {
      this.#emit(type, data.subarray(start, start + length + 2));
      return start + length + 2;
    }
    this.#body = { type, bytes: Buffer.allocUnsafe(length + 2), filled: 0 };
    this.#fill(this.#body, data.subarray(start));
    return -1;
  }

  /** Copies what the gathered part still needs from `data`; returns the rest of `data`. */
  #fill(body: { type: string; bytes: Buffer; filled: number }, data: Buffer): Buffer {
    const used = Math.min(data.length, body.bytes.length - body.filled);
    body.filled += data.copy(body.bytes, body.filled, 0, used);
    if (body.filled < body.bytes.length) return EMPTY;
    this.#body = undefined;
    this.#emit(body.type, body.bytes);
    return data.subarray(used);
  }

  /** `bytes` is the body and its closing CRLF. */
  #emit(type: string, bytes: Buffer): void {
    const length = bytes.length - 2;
    if (bytes[length] !== 13 || bytes[length + 1] !== 10) throw new Error('a part is longer than its Content-Length');
    this.#onPart({ type, body: bytes.subarray(0, length) });
  }
}

/** The parts of one page, in order, from the response body's chunks. */
export async function* readFeedParts(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<FeedPart> {
  let parts: FeedPart[] = [];
  const reader = new FeedPageReader(boundary, (part) => parts.push(part));
  for await (const chunk of body) {
    reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    yield* parts;
    parts = [];
    if (reader.done) return;
  }
  reader.end();
}
