import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature, type Verification } from '../../exporter/src/webhooks/signature.js';

/** What the receiver does with a request: answer 200, hold it unanswered (slow), or fail it. */
export type ReceiverMode = 'ok' | 'slow';

export interface Received {
  body: string;
  json: { delivery: number; webhook: string; attempt: number; change: { seq: number; kind: string; data: Record<string, unknown> } };
  headers: Record<string, string | string[] | undefined>;
  signature: Verification;
  /** The status it was answered with; null while held (slow) or when the client gave up. */
  status: number | null;
}

/**
 * A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that can be down (not
 * listening, its port kept), slow (requests are held unanswered until the mode changes, so the
 * sender's timeout fires), and answer 500 to the events a predicate picks. It verifies every
 * signature as a consumer would (webhooks/signature.ts) and keeps what it received.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  mode: ReceiverMode = 'ok';
  /** Events answered 500 while it returns true. */
  failWhen: (r: Received) => boolean = () => false;
  #server: Server | undefined;
  #held: ServerResponse[] = [];

  private constructor(readonly port: number, readonly secret: string) {}

  /** Reserves a port; `up` starts listening on it. */
  static async create(secret: string, port?: number): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(port ?? 0, secret);
    if (port === undefined) {
      await r.up();
      const chosen = (r.#server?.address() as AddressInfo).port;
      await r.down();
      return new WebhookReceiver(chosen, secret);
    }
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/mailsync`;
  }

  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Stops listening and drops every open connection: senders see refused connections. */
  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#held = [];
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Changes the mode; requests held while slow are answered 503 when it stops being slow. */
  setMode(mode: ReceiverMode): void {
    this.mode = mode;
    if (mode !== 'slow') for (const res of this.#held.splice(0)) if (!res.writableEnded && !res.destroyed) res.writeHead(503).end();
  }

  /** Deliveries answered 2xx with a valid signature, by delivery id (each once). */
  delivered(): Map<number, Received> {
    const out = new Map<number, Received>();
    for (const r of this.received) if (r.status === 200 && r.signature.ok) out.set(r.json.delivery, r);
    return out;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['x-mailsync-signature'];
      const r: Received = {
        body, json: JSON.parse(body) as Received['json'], headers: req.headers, status: null,
        signature: verifySignature(this.secret, body, Array.isArray(header) ? header[0] : header, Math.floor(Date.now() / 1_000)),
      };
      this.received.push(r);
      if (this.mode === 'slow') {
        this.#held.push(res);
        return;
      }
      r.status = !r.signature.ok ? 401 : this.failWhen(r) ? 500 : 200;
      res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.status === 200 ? 'ok' : 'no');
    });
  }
}
