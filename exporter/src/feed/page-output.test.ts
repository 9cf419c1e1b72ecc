import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/harness/wait.js';
import { FeedPageReader, type FeedPart } from '../../../test/harness/feed-multipart.js';
import { OUTPUT_CHUNK, PageOutput } from './page-output.js';

/**
 * A socket stand-in that takes what was written when each write completes (asynchronously, or when
 * the test says): a buffer written into again before its write completed would show here.
 */
class HeldSocket extends Writable {
  readonly written: Buffer[] = [];
  readonly pending: { chunk: Buffer; done: () => void }[] = [];
  release = false;

  constructor() {
    super({ highWaterMark: 1 << 30 });
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.pending.push({ chunk, done });
    if (this.release) setImmediate(() => this.flush());
  }

  flush(): void {
    for (const { chunk, done } of this.pending.splice(0)) {
      this.written.push(Buffer.from(chunk));
      done();
    }
  }
}

function part(boundary: string, type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`), body, Buffer.from('\r\n')]);
}

describe('a page written through reused buffers', () => {
  it('writes every piece byte for byte across many buffers, and two pages at once do not share one', async () => {
    const pages = [0, 1].map(() => {
      const socket = new HeldSocket();
      socket.release = true;
      return { socket, out: new PageOutput(socket), expected: [] as Buffer[] };
    });
    // Small, medium (copied) and larger-than-half-a-buffer (written as is) pieces, text with multi-byte characters.
    for (let i = 0; i < 400; i++) {
      for (const p of pages) {
        const text = `--b\r\nContent-Length: ${i}\r\n\r\n{"subject":"Rapport n°${i} – état"}\r\n`;
        const bytes = randomBytes(i % 50 === 0 ? OUTPUT_CHUNK - 1 : 100 + ((i * 797) % 9_000));
        p.out.text(text);
        p.out.bytes(bytes);
        p.expected.push(Buffer.from(text), bytes);
        if (p.out.held) await p.out.ready();
      }
    }
    for (const p of pages) {
      p.out.end();
      await waitFor(() => p.socket.writableFinished, { what: 'the page to finish' });
      expect(Buffer.concat(p.socket.written).equals(Buffer.concat(p.expected))).toBe(true);
    }
  });

  it('waits while the socket has not written what it was given, and goes on once it has', async () => {
    const socket = new HeldSocket();
    const out = new PageOutput(socket);
    const piece = randomBytes(OUTPUT_CHUNK / 2);
    let added = 0;
    while (!out.held) {
      out.bytes(piece);
      added += 1;
    }
    let resumed = false;
    const ready = out.ready().then(() => { resumed = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(false);
    socket.release = true;
    socket.flush();
    await ready;
    expect(resumed).toBe(true);
    out.end();
    await waitFor(() => socket.writableFinished, { what: 'the page to finish' });
    expect(Buffer.concat(socket.written).equals(Buffer.concat(Array.from({ length: added }, () => piece)))).toBe(true);
  });

  it('fails a wait when the client goes away, and a streamed email whose size is not the one announced', async () => {
    const socket = new HeldSocket();
    const out = new PageOutput(socket);
    while (!out.held) out.bytes(randomBytes(OUTPUT_CHUNK));
    const waiting = out.ready();
    socket.destroy();
    await expect(waiting).rejects.toThrow(/went away|destroyed/);

    const other = new PageOutput(Object.assign(new HeldSocket(), { release: true }));
    await expect(other.stream(Readable.from([randomBytes(1_000), randomBytes(500)]), 2_000)).rejects.toThrow('raw bytes of 1500 bytes where the change recorded 2000');
  });
});

describe('the consumer\'s page reader', () => {
  it('reads the same parts whatever the chunks the page arrives in', () => {
    const bodies = [Buffer.from('{"seq":1}'), randomBytes(3_000), Buffer.from('{"seq":2}'), Buffer.alloc(0), Buffer.from('\r\n--x\r\n\r\n')];
    const types = ['application/json', 'message/rfc822', 'application/json', 'message/rfc822', 'message/rfc822'];
    const page = Buffer.concat([...bodies.map((b, i) => part('x', types[i]!, b)), Buffer.from('--x--\r\n')]);
    for (const size of [1, 2, 7, 64, 1_000, page.length]) {
      const parts: FeedPart[] = [];
      const reader = new FeedPageReader('x', (p) => parts.push({ type: p.type, body: Buffer.from(p.body) }));
      for (let at = 0; at < page.length; at += size) reader.push(page.subarray(at, at + size));
      reader.end();
      expect(parts.map((p) => p.type)).toEqual(types);
      expect(parts.map((p) => p.body.equals(bodies[parts.indexOf(p)]!))).toEqual(bodies.map(() => true));
    }
  });

  it('refuses a page that ends inside a part, a part longer than its Content-Length and a missing boundary', () => {
    const page = part('x', 'message/rfc822', Buffer.from('abc'));
    const cut = new FeedPageReader('x', () => undefined);
    cut.push(page.subarray(0, page.length - 3));
    expect(() => cut.end()).toThrow('the response ended inside a part');
    const long = Buffer.from('--x\r\nContent-Type: message/rfc822\r\nContent-Length: 2\r\n\r\nabc\r\n--x--\r\n');
    expect(() => new FeedPageReader('x', () => undefined).push(long)).toThrow('a part is longer than its Content-Length');
    expect(() => new FeedPageReader('x', () => undefined).push(Buffer.from('--y\r\n'))).toThrow('a part does not start with the boundary');
  });
});
