import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Dovecot } from './dovecot.js';
import type { CertFiles } from './tls.js';

/** An SMTP reply to replay: `550 5.1.1 ... User unknown`, `554 5.2.0 ...SubmissionQuotaExceeded...`. */
export interface Reply {
  code: number;
  message: string;
}

export interface Delivery {
  messageId: string | null;
  from: string;
  to: string[];
  raw: Buffer;
  user: string | undefined;
}

export interface SmtpOptions {
  cert: CertFiles;
  /** username → password accepted by AUTH. */
  users: Record<string, string>;
  /** A server without STARTTLS (or one behind a stripping attacker): not offered, and refused. */
  noStartTls?: boolean;
  /** Replies by sender address at MAIL FROM, by recipient at RCPT TO, by sender at the end of DATA. */
  mailFrom?: Record<string, Reply>;
  rcptTo?: Record<string, Reply>;
  data?: Record<string, Reply>;
  /** Answer every connection with this greeting error (421 busy). */
  greeting?: Reply;
  /** Where accepted mail goes: local recipients' INBOX, and the logged-in account's Sent (as Microsoft 365 and Gmail save it). */
  dovecot?: Dovecot;
  saveToSent?: boolean;
  /** XOAUTH2: whether the access token is valid for the user (the token service's check); without it, XOAUTH2 is not offered. */
  oauth?: (accessToken: string, user: string) => boolean;
}

/** Hooks the crash tests use to hold the server at a point of a send while the runner is killed. */
export interface SmtpHooks {
  /** A connection arrived (before any command). */
  onConnect?: () => Promise<void>;
  /** MAIL FROM was received. */
  onMailFrom?: () => Promise<void>;
  /** The whole message was received (from the login `user`); resolve false to drop the connection instead of answering. */
  beforeAccept?: (user: string | undefined) => Promise<boolean>;
  /** The 250 was written. */
  afterAccept?: (d: Delivery) => void;
}

/**
 * nodemailer's real SMTP server library on loopback: STARTTLS with the lab certificate, AUTH,
 * replies scripted per sender and recipient (the exact texts of hosted providers), and a log of
 * what it accepted: the "receiving server's log" the tests count deliveries in.
 */
export class SmtpLab {
  readonly deliveries: Delivery[] = [];
  readonly hooks: SmtpHooks = {};
  port = 0;
  #server: SMTPServer;

  private constructor(o: SmtpOptions) {
    const reject = (r: Reply) => Object.assign(new Error(r.message), { responseCode: r.code });
    this.#server = new SMTPServer({
      secure: false,
      key: readFileSync(o.cert.key),
      cert: readFileSync(o.cert.cert),
      hideSTARTTLS: o.noStartTls ?? false,
      disabledCommands: o.noStartTls ? ['STARTTLS'] : [],
      authMethods: o.oauth ? ['PLAIN', 'LOGIN', 'XOAUTH2'] : ['PLAIN', 'LOGIN'],
      // The lab allows AUTH before STARTTLS only so that a client's refusal can be seen; mailsync never does it.
      allowInsecureAuth: true,
      size: 50 * 1024 * 1024,
      logger: false,
      onConnect: (_session, cb) => {
        if (o.greeting) return cb(reject(o.greeting));
        void (this.hooks.onConnect?.() ?? Promise.resolve()).then(() => cb());
      },
      onAuth: (auth, _session, cb) => {
        if (auth.method === 'XOAUTH2') {
          if (o.oauth && auth.username && auth.accessToken && o.oauth(auth.accessToken, auth.username)) return cb(null, { user: auth.username });
          // smtp-server's way to refuse XOAUTH2: the JSON challenge Gmail sends (RFC 7628 error).
          return cb(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
        }
        if (auth.username && o.users[auth.username] !== undefined && o.users[auth.username] === auth.password) return cb(null, { user: auth.username });
        return cb(reject({ code: 535, message: '5.7.8 Error: authentication failed: UGFzc3dvcmQ6' }));
      },
      onMailFrom: (address, _session, cb) => {
        const r = o.mailFrom?.[address.address.toLowerCase()];
        if (r) return cb(reject(r));
        void (this.hooks.onMailFrom?.() ?? Promise.resolve()).then(() => cb());
      },
      onRcptTo: (address, _session, cb) => {
        const r = o.rcptTo?.[address.address.toLowerCase()];
        cb(r ? reject(r) : undefined);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          void this.#accept(o, session, Buffer.concat(chunks), cb, reject);
        });
      },
    });
    this.#server.on('error', () => undefined);
  }

  static async start(options: SmtpOptions): Promise<SmtpLab> {
    const lab = new SmtpLab(options);
    await new Promise<void>((resolve) => lab.#server.listen(0, '127.0.0.1', resolve));
    lab.port = (lab.#server.server.address() as AddressInfo).port;
    return lab;
  }

  async #accept(o: SmtpOptions, session: SMTPServerSession, raw: Buffer, cb: (err?: Error | null, message?: string) => void, reject: (r: Reply) => Error): Promise<void> {
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '';
    const r = o.data?.[from];
    if (r) return cb(reject(r));
    if (this.hooks.beforeAccept && !(await this.hooks.beforeAccept(session.user as string | undefined))) return;
    const to = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
    const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.toString('latin1'))?.[1] ?? null;
    const delivery: Delivery = { messageId, from, to, raw, user: session.user as string | undefined };
    // Delivered (and copied to Sent) before the 250, as a real server commits before it answers.
    if (o.dovecot) {
      for (const rcpt of to) {
        if (!rcpt.endsWith('@lab.example')) continue;
        // An unknown local user would bounce; the lab keeps the delivery log and moves on.
        try {
          o.dovecot.deliver(rcpt.split('@')[0] as string, 'INBOX', raw);
        } catch {
          continue;
        }
      }
      // The provider files the copy in the Sent folder of the account that logged in.
      if (o.saveToSent && typeof session.user === 'string') o.dovecot.deliver(session.user, 'Sent', raw);
    }
    this.deliveries.push(delivery);
    cb(null, `2.0.0 Ok: queued as ${this.deliveries.length}`);
    this.hooks.afterAccept?.(delivery);
  }

  /** How often the server accepted the message with this Message-ID. */
  count(messageId: string): number {
    return this.deliveries.filter((d) => d.messageId === messageId).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
