/**
 * The reply side of a POP3 connection (RFC 1939): status lines ("+OK ...", "-ERR ...", and the
 * "+ ..." continuation of AUTH), and the multi-line bodies of CAPA, UIDL, LIST and RETR, ended by
 * a line holding one dot, with dot-stuffing undone. Replies are matched to commands in the order
 * the commands were sent, which is what lets RETRs be pipelined (RFC 2449 PIPELINING).
 *
 * A message may arrive in many TCP chunks and one chunk may end one reply and start the next;
 * bodies are kept as a list of chunks and joined once, so a 25 MB message costs one copy, not
 * one per chunk.
 */

export type Status = '+OK' | '-ERR' | '+';

export interface Reply {
  status: Status;
  /** The status line after the status indicator. */
  text: string;
  /** The multi-line body (only after a +OK to a multi-line command), unstuffed, lines ending CRLF. */
  body?: Buffer;
}

interface Body {
  chunks: Buffer[];
  tail: Buffer;
  status: Reply;
}

interface Expectation {
  multiLine: boolean;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

const CRLF = Buffer.from('\r\n');
/** The end of a multi-line body: the last line's CRLF, then a line with one dot. */
const TERMINATOR = Buffer.from('\r\n.\r\n');
/** A status line longer than this is no POP3 server (RFC 2449 allows 512 octets). */
const MAX_STATUS_LINE = 8_192;

export class ReplyReader {
  readonly #waiting: Expectation[] = [];
  #line: Buffer = Buffer.alloc(0);
  /** Set while a multi-line body is being read. */
  #body: Body | undefined;
  #failed: Error | undefined;

  /** Registers the reply the next command written will get. */
  expect(multiLine: boolean): Promise<Reply> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => this.#waiting.push({ multiLine, resolve, reject }));
  }

  /** Fails every reply still expected (the connection closed or timed out). */
  fail(error: Error): void {
    this.#failed ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  get pending(): number {
    return this.#waiting.length;
  }

  /** Bytes received that belong to no reply yet (before STLS: what a man in the middle injected). */
  get buffered(): boolean {
    return this.#line.length > 0 || this.#body !== undefined;
  }

  push(chunk: Buffer): void {
    let rest: Buffer | undefined = chunk;
    while (rest && rest.length > 0 && !this.#failed) rest = this.#body ? this.#readBody(rest) : this.#readStatus(rest);
  }

  #readStatus(chunk: Buffer): Buffer | undefined {
    const data = this.#line.length > 0 ? Buffer.concat([this.#line, chunk]) : chunk;
    const end = data.indexOf(CRLF);
    if (end < 0) {
      if (data.length > MAX_STATUS_LINE) this.fail(protocolError(`a status line longer than ${MAX_STATUS_LINE} octets`));
      this.#line = data;
      return undefined;
    }
    this.#line = Buffer.alloc(0);
    const line = data.subarray(0, end).toString('latin1');
    const waiting = this.#waiting[0];
    if (!waiting) {
      this.fail(protocolError(`a reply nothing asked for: "${line.slice(0, 80)}"`));
      return undefined;
    }
    const reply = parseStatus(line);
    if (!reply) {
      this.fail(protocolError(`"${line.slice(0, 80)}" is no POP3 status line`));
      return undefined;
    }
    if (reply.status === '+OK' && waiting.multiLine) {
      // The status line's CRLF starts the body, so an empty body and a stuffed first line need no special case.
      this.#body = { chunks: [], tail: Buffer.alloc(0), status: reply };
      return this.#readBody(data.subarray(end));
    }
    this.#waiting.shift();
    waiting.resolve(reply);
    return data.subarray(end + 2);
  }

  #readBody(chunk: Buffer): Buffer | undefined {
    const body = this.#body as Body;
    // The terminator may straddle two chunks: search it in the last bytes before this chunk too.
    const probe = body.tail.length > 0 ? Buffer.concat([body.tail, chunk]) : chunk;
    const at = probe.indexOf(TERMINATOR);
    if (at < 0) {
      body.chunks.push(chunk);
      body.tail = Buffer.from(probe.subarray(Math.max(0, probe.length - (TERMINATOR.length - 1))));
      return undefined;
    }
    // Keep the last line's CRLF: a message ends with its line end.
    const cut = at - body.tail.length + 2;
    let all = Buffer.concat(cut >= 0 ? [...body.chunks, chunk.subarray(0, cut)] : body.chunks);
    if (cut < 0) all = all.subarray(0, all.length + cut);
    this.#body = undefined;
    const waiting = this.#waiting.shift() as Expectation;
    waiting.resolve({ ...body.status, body: unstuff(all).subarray(2) });
    return chunk.subarray(at - body.tail.length + TERMINATOR.length);
  }
}

export function parseStatus(line: string): Reply | undefined {
  if (line.startsWith('+OK')) return { status: '+OK', text: line.slice(3).trimStart() };
  if (line.startsWith('-ERR')) return { status: '-ERR', text: line.slice(4).trimStart() };
  if (line === '+' || line.startsWith('+ ')) return { status: '+', text: line.slice(2) };
  return undefined;
}

/** RFC 1939 3: a line of the body starting with "." was sent with one more "." in front. */
export function unstuff(data: Buffer): Buffer {
  const stuffed = Buffer.from('\r\n..');
  let at = data.indexOf(stuffed);
  if (at < 0) return data;
  const parts: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    // Keep "\r\n." and drop the second dot.
    parts.push(data.subarray(from, at + 3));
    from = at + 4;
    at = data.indexOf(stuffed, from);
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}

function protocolError(what: string): Error {
  return Object.assign(new Error(`POP3: the server sent ${what}`), { code: 'EPROTOCOL' });
}
