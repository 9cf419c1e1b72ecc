import type { Writable } from 'node:stream';

/** The size of the buffers a multipart page is written through. */
export const OUTPUT_CHUNK = 256 * 1024;
/**
 * Buffers handed to the socket and not written yet: at this many the page waits, so a slow reader
 * holds us back at about 2 MB per response instead of the page piling up in memory.
 */
const IN_FLIGHT = 8;
/** Spare buffers kept between responses: a page's buffers are reused by the next page. */
const SPARE = 2 * IN_FLIGHT;
const spare: Buffer[] = [];

/**
 * A response body written through a few reused buffers: text is encoded and small raw emails are
 * copied straight into the current buffer, which goes to the socket whole when full and comes back
 * once written. bench:feed's profile showed the page's cost in what this avoids: a fresh buffer for
 * every part's headers, a concatenation of each 256 KB write, and the page faults and garbage
 * collection of buffers used once. A piece of more than half a buffer is written as it is.
 */
export class PageOutput {
  readonly #res: Writable;
  readonly #free: Buffer[] = [];
  #buf: Buffer;
  #at = 0;
  #inFlight = 0;
  #failed: Error | undefined;
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(res: Writable) {
    this.#res = res;
    this.#buf = this.#take();
  }

  /** True when the page should wait (`ready`) before adding more. */
  get held(): boolean {
    return this.#inFlight >= IN_FLIGHT || this.#failed !== undefined;
  }

  /** Text encoded as UTF-8 into the current buffer (never more than 3 bytes per UTF-16 unit). */
  text(s: string): void {
    if (s.length * 3 > OUTPUT_CHUNK - this.#at) {
      this.#send();
      if (s.length * 3 > OUTPUT_CHUNK) return this.#direct(Buffer.from(s));
    }
    this.#at += this.#buf.write(s, this.#at);
  }

  bytes(b: Buffer): void {
    if (b.length > OUTPUT_CHUNK - this.#at) {
      this.#send();
      if (b.length > OUTPUT_CHUNK / 2) return this.#direct(b);
    }
    this.#at += b.copy(this.#buf, this.#at);
  }

  /** Waits until fewer than IN_FLIGHT buffers are with the socket; fails when the client went away. */
  async ready(): Promise<void> {
    while (this.held) {
      if (this.#failed) throw this.#failed;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#res.off('close', closed);
          this.#wake = undefined;
          resolve();
        };
        // A response whose connection closed may never call back its writes: 'close' ends the wait.
        const closed = () => {
          this.#failed ??= new Error('the client went away');
          done();
        };
        this.#wake = done;
        this.#res.once('close', closed);
      });
    }
  }

  /** A large email's bytes, chunk by chunk; a size other than the one announced breaks the framing, so it fails the response. */
  async stream(stream: AsyncIterable<Buffer>, size: number): Promise<void> {
    this.#send();
    let seen = 0;
    for await (const chunk of stream) {
      seen += chunk.length;
      this.#direct(chunk);
      if (this.held) await this.ready();
    }
    if (seen !== size) throw new Error(`raw bytes of ${seen} bytes where the change recorded ${size}: the multipart page cannot continue`);
  }

  /** The rest written and the response ended; this output's buffers go back to the spares as their writes finish. */
  end(): void {
    this.#send();
    this.#ended = true;
    for (const b of [this.#buf, ...this.#free]) if (spare.length < SPARE) spare.push(b);
    this.#free.length = 0;
    this.#res.end();
  }

  #send(): void {
    if (this.#at === 0) return;
    const whole = this.#buf;
    this.#write(whole.subarray(0, this.#at), whole);
    this.#buf = this.#take();
    this.#at = 0;
  }

  #direct(b: Buffer): void {
    this.#write(b, undefined);
  }

  #write(chunk: Buffer, reuse: Buffer | undefined): void {
    this.#inFlight += 1;
    this.#res.write(chunk, (error) => {
      this.#inFlight -= 1;
      if (error) this.#failed ??= error;
      // Only once the socket is done with it may a buffer be written into again.
      else if (reuse && !this.#ended) this.#free.push(reuse);
      else if (reuse && spare.length < SPARE) spare.push(reuse);
      this.#wake?.();
    });
  }

  #take(): Buffer {
    return this.#free.pop() ?? spare.pop() ?? Buffer.allocUnsafe(OUTPUT_CHUNK);
  }
}
