import net from 'node:net';
import tls from 'node:tls';
import { ClassifiedError } from '../../classify/index.js';
import type { Secret, Security } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { assertChannelAllowed, type ChannelPolicy } from '../../protocols/channel.js';
import { clientContext } from '../../protocols/tls-context.js';
import { ReplyReader, type Reply } from './reader.js';
import { Pop3ReplyError } from './replies.js';

export interface Pop3Endpoint {
  host: string;
  port: number;
  security: Security;
  caFile: string | undefined;
  timeouts: { connectSeconds: number; greetingSeconds: number; socketSeconds: number };
}

/**
 * A POP3 login: a password (USER/PASS, or SASL PLAIN with an authorization identity for a master
 * user acting as the mailbox), or an OAuth2 access token (SASL XOAUTH2).
 */
export type Pop3Login =
  | { user: string; password: Secret; authzid?: string | undefined }
  | { user: string; accessToken: Secret };

/** How many RETRs are on the wire at once when the server allows pipelining (RFC 2449). */
const PIPELINE_WINDOW = 32;

/**
 * A logged-in POP3 connection (RFC 1939) of our own over node:net and node:tls: implicit TLS, or
 * STLS required (RFC 2595; never a silent downgrade), certificates verified, the organization's
 * channel rules as for IMAP and SMTP. Only reading commands are used; DELE only when the caller
 * asks. Why not node-pop3: docs/decisions.md.
 */
export class Pop3Session {
  #socket: net.Socket;
  readonly #reader: ReplyReader;
  #capabilities = new Set<string>();
  #closed = false;

  private constructor(socket: net.Socket, reader: ReplyReader) {
    this.#socket = socket;
    this.#reader = reader;
  }

  /** Connects, secures and logs in; an abort closes the socket and rejects with `AbortError`. */
  static async open(endpoint: Pop3Endpoint, login: Pop3Login, policy: ChannelPolicy, logger: Logger, signal?: AbortSignal): Promise<Pop3Session> {
    signal?.throwIfAborted();
    assertChannelAllowed(endpoint, policy);
    // One context per CA file, shared by every login (protocols/tls-context.ts).
    const context = endpoint.security === 'none' ? undefined : clientContext(endpoint.caFile);
    const reader = new ReplyReader();
    const greeting = reader.expect(false);
    greeting.catch(() => undefined);
    const socket = await connect(endpoint, context, signal);
    const session = new Pop3Session(socket, reader);
    session.#attach(endpoint.timeouts.socketSeconds);
    const abort = () => session.#socket.destroy();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await withTimer(greeting, endpoint.timeouts.greetingSeconds, 'GREETING_TIMEOUT', `no POP3 greeting from ${endpoint.host}:${endpoint.port}`)
        .then((r) => checked('greeting', r));
      await session.#capa();
      if (endpoint.security === 'starttls') await session.#startTls(endpoint, context);
      await session.#login(login);
      logger.debug({ host: endpoint.host, port: endpoint.port }, 'pop3 logged in');
      return session;
    } catch (error) {
      session.#socket.destroy();
      if (signal?.aborted) throw new DOMException('the runner is stopping', 'AbortError');
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  get capabilities(): ReadonlySet<string> {
    return this.#capabilities;
  }

  get usable(): boolean {
    return !this.#closed && !this.#socket.destroyed;
  }

  /** Number of messages and octets in the maildrop. */
  async stat(): Promise<{ messages: number; octets: number }> {
    const r = await this.#command('STAT', 'STAT');
    const [messages, octets] = r.text.split(/\s+/).map(Number);
    if (!Number.isInteger(messages) || !Number.isInteger(octets)) throw protocolError(`STAT answered "${r.text.slice(0, 80)}"`);
    return { messages: messages as number, octets: octets as number };
  }

  /** Each message's number, unique-id (RFC 1939 UIDL) and size (LIST), in maildrop order. */
  async listing(): Promise<{ msgNo: number; uidl: string; size: number }[]> {
    // Two multi-line commands at once when the server pipelines: one round trip instead of two.
    const pipelined = this.#capabilities.has('PIPELINING');
    const uidlReply = this.#command('UIDL', 'UIDL', true);
    if (pipelined) uidlReply.catch(() => undefined);
    const listReply = pipelined ? this.#command('LIST', 'LIST', true) : undefined;
    const uidls = pairs(await uidlReply, 'UIDL');
    const sizes = pairs(await (listReply ?? this.#command('LIST', 'LIST', true)), 'LIST');
    return [...uidls].map(([msgNo, uidl]) => ({ msgNo, uidl, size: Number(sizes.get(msgNo) ?? 0) }));
  }

  /** The raw messages, in the order asked, pipelined when the server allows it. */
  async *retrieve(msgNos: number[]): AsyncGenerator<{ msgNo: number; source: Buffer }> {
    const window = this.#capabilities.has('PIPELINING') ? PIPELINE_WINDOW : 1;
    const inflight: { msgNo: number; reply: Promise<Reply> }[] = [];
    let next = 0;
    const fill = () => {
      const lines: string[] = [];
      while (inflight.length < window && next < msgNos.length) {
        const msgNo = msgNos[next++] as number;
        const reply = this.#reader.expect(true);
        // Awaited in turn below; until then a failed connection must not be an unhandled rejection.
        reply.catch(() => undefined);
        inflight.push({ msgNo, reply });
        lines.push(`RETR ${msgNo}\r\n`);
      }
      if (lines.length > 0) this.#socket.write(lines.join(''));
    };
    fill();
    while (inflight.length > 0) {
      const { msgNo, reply } = inflight.shift() as { msgNo: number; reply: Promise<Reply> };
      const r = checked('RETR', await reply);
      fill();
      yield { msgNo, source: r.body ?? Buffer.alloc(0) };
    }
  }

  /** Marks a message for deletion; the server removes it at QUIT (RFC 1939 UPDATE state). */
  async dele(msgNo: number): Promise<void> {
    await this.#command(`DELE ${msgNo}`, 'DELE');
  }

  /** QUIT (which commits DELEs), but never wait on a dead peer for longer than a second. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#socket.destroyed) return;
    const timer = setTimeout(() => this.#socket.destroy(), 1_000);
    try {
      await this.#command('QUIT', 'QUIT');
    } catch {
      // The connection is going away either way.
    } finally {
      clearTimeout(timer);
      this.#socket.destroy();
    }
  }

  #attach(socketSeconds: number): void {
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', (error) => this.#reader.fail(error));
    socket.on('close', () => this.#reader.fail(Object.assign(new Error('the POP3 server closed the connection'), { code: 'EConnectionClosed' })));
    socket.setTimeout(socketSeconds * 1_000, () => {
      this.#reader.fail(Object.assign(new Error(`the POP3 server did not answer for ${socketSeconds} s`), { code: 'ETIMEOUT' }));
      socket.destroy();
    });
  }

  async #capa(): Promise<void> {
    const r = await this.#send('CAPA', true);
    // A server without CAPA (RFC 1939 only) answers -ERR: no capabilities known, so no STLS either.
    this.#capabilities = new Set(r.status === '+OK' ? (r.body ?? Buffer.alloc(0)).toString('latin1').split('\r\n').filter(Boolean).map((l) => l.toUpperCase()) : []);
  }

  async #startTls(endpoint: Pop3Endpoint, context: tls.SecureContext | undefined): Promise<void> {
    // Required, not opportunistic: a server (or a man in the middle) that hides STLS must fail here.
    if (!this.#capabilities.has('STLS')) {
      throw new ClassifiedError('secure_connection_failed', `${endpoint.host}:${endpoint.port} does not offer STLS and the profile requires it (security: starttls)`);
    }
    await this.#command('STLS', 'STLS');
    // Anything after the +OK came before TLS, unauthenticated: a reply injected in clear (CVE-2011-0411's kind).
    if (this.#reader.buffered) throw protocolError('data after its +OK to STLS, before TLS');
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.setTimeout(0);
    this.#socket = await secure({ ...tlsOptions(endpoint, context), socket: plain }, endpoint, undefined);
    this.#attach(endpoint.timeouts.socketSeconds);
    // RFC 2595 4: what the server said before TLS may have been forged; ask again.
    await this.#capa();
  }

  async #login(login: Pop3Login): Promise<void> {
    if ('accessToken' in login) {
      const xoauth2 = Buffer.from(`user=${login.user}\x01auth=Bearer ${login.accessToken.reveal()}\x01\x01`).toString('base64');
      await this.#sasl('XOAUTH2', xoauth2);
    } else if (login.authzid) {
      const plain = Buffer.from(`${login.authzid}\0${login.user}\0${login.password.reveal()}`).toString('base64');
      await this.#sasl('PLAIN', plain);
    } else {
      await this.#command(`USER ${login.user}`, 'USER');
      await this.#command(`PASS ${login.password.reveal()}`, 'PASS');
    }
  }

  /** RFC 5034 AUTH with an initial response; a challenge instead of -ERR (XOAUTH2's error JSON) is answered empty. */
  async #sasl(mechanism: string, initial: string): Promise<void> {
    const r = await this.#send(`AUTH ${mechanism} ${initial}`, false);
    if (r.status === '+') {
      checked('AUTH', await this.#send('', false));
      throw protocolError(`AUTH ${mechanism} was answered with a challenge, then accepted`);
    }
    checked('AUTH', r);
  }

  #send(line: string, multiLine: boolean): Promise<Reply> {
    const reply = this.#reader.expect(multiLine);
    this.#socket.write(`${line}\r\n`);
    return reply;
  }

  async #command(line: string, verb: string, multiLine = false): Promise<Reply> {
    return checked(verb, await this.#send(line, multiLine));
  }
}

function checked(verb: string, reply: Reply): Reply {
  if (reply.status === '-ERR') throw new Pop3ReplyError(verb, reply.text);
  if (reply.status === '+') throw protocolError(`a continuation to ${verb}`);
  return reply;
}

/** "1 abc\r\n2 def\r\n" -> Map{1 => 'abc', 2 => 'def'}. */
function pairs(reply: Reply, verb: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of (reply.body ?? Buffer.alloc(0)).toString('latin1').split('\r\n')) {
    if (line === '') continue;
    const [n, value] = line.split(' ');
    if (!n || value === undefined || !/^\d+$/.test(n)) throw protocolError(`a ${verb} line "${line.slice(0, 80)}"`);
    out.set(Number(n), value);
  }
  return out;
}

function tlsOptions(endpoint: Pop3Endpoint, context: tls.SecureContext | undefined): tls.ConnectionOptions {
  return {
    host: endpoint.host, port: endpoint.port, servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
    // The context carries the CA and the TLSv1.2 floor.
    rejectUnauthorized: true, ...(context ? { secureContext: context } : {}),
  };
}

async function connect(endpoint: Pop3Endpoint, context: tls.SecureContext | undefined, signal: AbortSignal | undefined): Promise<net.Socket> {
  if (endpoint.security === 'tls') return secure(tlsOptions(endpoint, context), endpoint, signal);
  const socket = net.connect({ host: endpoint.host, port: endpoint.port });
  return established(socket, 'connect', endpoint, signal);
}

function secure(options: tls.ConnectionOptions, endpoint: Pop3Endpoint, signal: AbortSignal | undefined): Promise<net.Socket> {
  return established(tls.connect(options), 'secureConnect', endpoint, signal);
}

/** Resolves once the socket is connected (and secured), within the profile's connect timeout. */
function established(socket: net.Socket, event: 'connect' | 'secureConnect', endpoint: Pop3Endpoint, signal: AbortSignal | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const seconds = endpoint.timeouts.connectSeconds;
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(signal?.aborted ? new DOMException('the runner is stopping', 'AbortError') : error);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error(`connecting to ${endpoint.host}:${endpoint.port} took over ${seconds} s`), { code: 'CONNECT_TIMEOUT' })), seconds * 1_000);
    const abort = () => fail(new Error('aborted'));
    const done = () => {
      cleanup();
      resolve(socket);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off(event, done);
      signal?.removeEventListener('abort', abort);
    };
    socket.once('error', fail);
    socket.once(event, done);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

async function withTimer<T>(promise: Promise<T>, seconds: number, code: string, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${message} within ${seconds} s`), { code })), seconds * 1_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function protocolError(what: string): Error {
  return Object.assign(new Error(`POP3: the server sent ${what}`), { code: 'EPROTOCOL' });
}
