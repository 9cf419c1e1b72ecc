import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { CertFiles } from './tls.js';

/**
 * Replies a scripted IMAP server gives, as `tagged status + text` (e.g. "NO [UNAVAILABLE] ...").
 * Only for what a local Dovecot cannot say: hosted providers' exact refusals and throttling texts.
 */
export interface ImapScript {
  login?: string;
  /** Reply to STATUS, EXAMINE and SELECT. */
  folder?: string;
}

/**
 * A small IMAP responder on a real TLS socket: greets, answers CAPABILITY/ID/NOOP/LOGOUT, and
 * replies to LOGIN/AUTHENTICATE and folder commands from the script. Enough for imapflow to reach
 * the command whose reply is being replayed, nothing more.
 */
export class ScriptedImap {
  readonly commands: string[] = [];
  #server: tls.Server;
  port = 0;

  private constructor(cert: CertFiles, script: ImapScript) {
    this.#server = tls.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (socket) => this.#session(socket, script));
  }

  static async start(cert: CertFiles, script: ImapScript): Promise<ScriptedImap> {
    const r = new ScriptedImap(cert, script);
    await new Promise<void>((resolve) => r.#server.listen(0, '127.0.0.1', resolve));
    r.port = (r.#server.address() as net.AddressInfo).port;
    return r;
  }

  #session(socket: tls.TLSSocket, script: ImapScript): void {
    socket.on('error', () => undefined);
    const send = (line: string) => socket.write(`${line}\r\n`);
    send('* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] scripted responder ready');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const [tag, rawCommand] = line.split(' ');
        const command = (rawCommand ?? '').toUpperCase();
        this.commands.push(command);
        switch (command) {
          case 'CAPABILITY':
            send('* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN');
            send(`${tag} OK CAPABILITY completed`);
            break;
          case 'LOGIN':
          case 'AUTHENTICATE':
            send(`${tag} ${script.login ?? 'OK [CAPABILITY IMAP4rev1] logged in'}`);
            break;
          case 'STATUS':
          case 'EXAMINE':
          case 'SELECT':
            send(`${tag} ${script.folder ?? 'NO not scripted'}`);
            break;
          case 'LOGOUT':
            send('* BYE logging out');
            send(`${tag} OK LOGOUT completed`);
            socket.end();
            break;
          default:
            send(`${tag} OK ${command} completed`);
        }
      }
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Accepts connections and never says a word: a server stuck before its greeting. */
export class SilentServer {
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  port = 0;

  private constructor() {
    this.#server = net.createServer((s) => {
      this.#sockets.add(s);
      s.on('error', () => undefined).on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(): Promise<SilentServer> {
    const s = new SilentServer();
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.port = (s.#server.address() as net.AddressInfo).port;
    return s;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
