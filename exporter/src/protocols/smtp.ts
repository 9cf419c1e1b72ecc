import { Readable } from 'node:stream';
import { domainToASCII } from 'node:url';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Secret, Security } from '../config/index.js';
import { lazyModule } from '../lazy.js';
import { assertChannelAllowed, readCa, type ChannelPolicy } from './channel.js';

// Loaded on first use: only profiles with an outgoing server (and emails queued through the API)
// need nodemailer, and importing it costs about 0.07 s of CPU at start-up (measured against bare node).
const nodemailer = lazyModule('nodemailer', async () => (await import('nodemailer')).default);

/** Loads nodemailer; an outgoing cycle or check awaits it before `SmtpTransports.get`. */
export async function loadSmtp(): Promise<void> {
  await nodemailer.load();
}

export interface SmtpEndpoint {
  host: string;
  port: number;
  security: Security;
  caFile?: string | undefined;
  maxConnections: number;
  timeouts: { connectSeconds: number; greetingSeconds: number; socketSeconds: number };
}

export interface SmtpLogin {
  user: string;
  password: Secret;
  /**
   * A: OAuth2 (XOAUTH2): nodemailer asks this for the token of each new connection, with `renew`
   * when the server refused the last one; mailsync's token cache answers, nodemailer never refreshes.
   */
  accessToken?: (renew: boolean) => Promise<Secret>;
}

export interface EmailContent {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  attachments: { filename: string; contentType: string | undefined; content: Buffer }[];
  messageId: string;
  date: Date;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  response: string;
}

/**
 * Builds the MIME message once, at queue time: the stored bytes are what every attempt sends, so
 * a resend after a crash is the same message with the same Message-ID. `bcc` is not written:
 * those recipients are in the envelope only.
 */
export async function composeEmail(content: EmailContent): Promise<Buffer> {
  const composer = (await nodemailer.load()).createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await composer.sendMail({
    from: content.from,
    to: content.to,
    cc: content.cc,
    // Bcc recipients go in the envelope only (the caller adds them); a stream transport would
    // otherwise keep the Bcc header in the stored bytes, showing them to every recipient.
    subject: content.subject,
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(content.html !== undefined ? { html: content.html } : {}),
    attachments: content.attachments.map((a) => ({ filename: a.filename, content: a.content, ...(a.contentType ? { contentType: a.contentType } : {}) })),
    messageId: content.messageId,
    date: content.date,
  });
  return info.message as Buffer;
}

/**
 * Pooled SMTP connections, one pool per server and login. TLS follows the same rules as IMAP:
 * `tls` is implicit TLS, `starttls` requires the upgrade (a server that does not offer it fails
 * instead of sending in clear), certificates are verified, `none` needs the organization's consent.
 */
export class SmtpTransports {
  readonly #pools = new Map<string, Transporter>();

  /**
   * Closes one pool and forgets it, so the next `get` opens afresh: a stopping runner must not wait
   * for a send hung on a silent connection until the socket timeout. The send fails at once.
   */
  close(transport: Transporter): void {
    for (const [key, pool] of this.#pools) {
      if (pool !== transport) continue;
      this.#pools.delete(key);
      // nodemailer's pool.close() closes only its idle connections; a busy one would first finish
      // its send, or time out. Its connections are closed here too (an internal field of the
      // pinned nodemailer; the fault-proxy test of a SIGTERM during a hung send catches a change).
      const connections = (pool.transporter as unknown as { _connections?: { close(): void }[] })._connections ?? [];
      for (const connection of [...connections]) connection.close();
      pool.close();
    }
  }

  /** The pool for a server and login; `loadSmtp()` must have been awaited. */
  get(endpoint: SmtpEndpoint, login: SmtpLogin, policy: ChannelPolicy): Transporter {
    assertChannelAllowed(endpoint, policy);
    const key = `${endpoint.host}:${endpoint.port}:${endpoint.security}:${login.user}:${endpoint.caFile ?? ''}${login.accessToken ? ':oauth2' : ''}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = nodemailer.get().createTransport({
        pool: true,
        maxConnections: endpoint.maxConnections,
        host: endpoint.host,
        port: endpoint.port,
        secure: endpoint.security === 'tls',
        requireTLS: endpoint.security === 'starttls',
        ignoreTLS: endpoint.security === 'none',
        tls: {
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          servername: endpoint.host,
          ...(endpoint.caFile ? { ca: readCa(endpoint.caFile) } : {}),
        },
        auth: smtpAuth(login),
        connectionTimeout: endpoint.timeouts.connectSeconds * 1_000,
        greetingTimeout: endpoint.timeouts.greetingSeconds * 1_000,
        socketTimeout: endpoint.timeouts.socketSeconds * 1_000,
        logger: false,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Drops pools whose settings may have changed (config reload); their connections close. */
  closeAll(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

function smtpAuth(login: SmtpLogin): SMTPTransport.Options['auth'] {
  const { accessToken } = login;
  if (!accessToken) return { user: login.user, pass: login.password.reveal() };
  return {
    type: 'OAuth2',
    user: login.user,
    provisionCallback: (_user: string, renew: boolean, done: (err: Error | null, token?: string) => void) => {
      accessToken(renew).then((token) => done(null, token.reveal()), (error: unknown) => done(error as Error));
    },
  };
}

/**
 * Sends stored bytes to `recipients`, from `from` (the envelope; the headers are in `raw`). The
 * bytes were composed once, at queue time, so they go to the pool as they are: nodemailer's
 * `sendMail` would build a MIME tree around them again (a MimeNode with a generated Message-ID of
 * its own, a parse of every address, two more stream stages), the largest part of its work per
 * email (docs/performance.md, bench:send). The pool gets what its transport contract reads of a
 * message: the envelope, the Message-ID it logs, and a stream of the bytes. The test of a send
 * over a real SMTP server (test/integration/outgoing.test.ts) catches a change of that contract.
 */
export function sendRaw(transport: Transporter, from: string, recipients: string[], raw: Buffer, messageId = ''): Promise<SendResult> {
  const envelope = { from: asciiDomain(from), to: recipients.map(asciiDomain) };
  const message = {
    // A fresh copy each time: the connection writes its own fields into the envelope it gets.
    getEnvelope: () => ({ from: envelope.from, to: [...envelope.to] }),
    messageId: () => messageId,
    getHeader: (key: string) => (key.toLowerCase() === 'message-id' ? messageId : undefined),
    // A fresh stream each time: the pool sends the message again over another connection when
    // the one it chose closed before a byte of it was written.
    createReadStream: () => Readable.from([raw], { objectMode: false }),
  };
  return new Promise((resolve, reject) => {
    const pool = transport.transporter as unknown as { send(mail: unknown, done: (error: Error | null, info?: SMTPTransport.SentMessageInfo) => void): void };
    pool.send({ data: {}, message }, (error, info) => {
      if (error) return reject(error);
      const list = (v: unknown) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : String((x as { address?: string }).address ?? x))) : []);
      resolve({ accepted: list(info?.accepted), rejected: list(info?.rejected), response: String(info?.response ?? '') });
    });
  });
}

/**
 * An address as nodemailer's own envelope has it: the domain in ASCII (IDNA), which a server
 * without SMTPUTF8 needs, unless the local part is not ASCII either (that address needs SMTPUTF8
 * anyway, and keeps its domain in UTF-8). Addresses are plain `local@domain` once queued.
 */
function asciiDomain(address: string): string {
  const at = address.lastIndexOf('@');
  // eslint-disable-next-line no-control-regex
  const ascii = (text: string) => /^[\x00-\x7f]*$/.test(text);
  const domain = address.slice(at + 1);
  if (at < 0 || ascii(domain) || !ascii(address.slice(0, at))) return address;
  return `${address.slice(0, at + 1)}${domainToASCII(domain) || domain}`;
}

/** Connect, secure, authenticate: the outgoing check of Test & Enable. */
export async function verifyTransport(transport: Transporter): Promise<void> {
  await transport.verify();
}
