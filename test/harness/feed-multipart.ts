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

const CRLF2 = Buffer.from('\r\n\r\n');

export function boundaryOf(contentType: string | null): string {
  const m = /^multipart\/mixed;\s*boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
  if (!m) throw new Error(`expected a multipart/mixed response with a boundary, got Content-Type ${contentType}`);
  return m[2]!;
}

/** The parts of one page, in order, from the response body's chunks. */
export async function* readFeedParts(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<FeedPart> {
  const bytes = new ByteQueue(body[Symbol.asyncIterator]());
  const open = Buffer.from(`--${boundary}`);
  for (;;) {
    const dashes = await bytes.take(open.length + 2);
    if (!dashes.subarray(0, open.length).equals(open)) throw new Error('a part does not start with the boundary');
    const after = dashes.subarray(open.length).toString('latin1');
    if (after === '--') return;
    if (after !== '\r\n') throw new Error(`unexpected ${JSON.stringify(after)} after the boundary`);
    const headers = (await bytes.takeThrough(CRLF2)).toString('latin1');
    const type = /^content-type:\s*([^\r\n;]+)/im.exec(headers)?.[1]?.trim() ?? '';
    const length = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? NaN);
    if (!Number.isSafeInteger(length)) throw new Error(`a part has no Content-Length: ${headers}`);
    const part = await bytes.take(length + 2);
    if (part[length] !== 13 || part[length + 1] !== 10) throw new Error('a part is longer than its Content-Length');
    yield { type, body: part.subarray(0, length) };
  }
}

/** Bytes as they arrive, taken off the front without copying a chunk that holds what is asked. */
class ByteQueue {
  readonly #source: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #have = 0;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source;
  }

  async take(n: number): Promise<Buffer> {
    while (this.#have < n) await this.#more();
    return this.#cut(n);
  }

  /** Everything up to and including `end`. */
  async takeThrough(end: Buffer): Promise<Buffer> {
    for (;;) {
      const all = this.#joined();
      const at = all.indexOf(end);
      if (at >= 0) return this.#cut(at + end.length);
      await this.#more();
    }
  }

  async #more(): Promise<void> {
    const next = await this.#source.next();
    if (next.done) throw new Error('the response ended inside a part');
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#chunks.push(chunk);
    this.#have += chunk.length;
  }

  #joined(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.#have)];
    return this.#chunks[0]!;
  }

  #cut(n: number): Buffer {
    const all = this.#chunks[0]!.length >= n ? this.#chunks[0]! : this.#joined();
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks.splice(0, 1, ...(rest.length > 0 ? [rest] : []));
    this.#have -= n;
    return out;
  }
}
