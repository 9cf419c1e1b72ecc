import net from 'node:net';

/**
 * What the path between mailsync and a server does to a connection. Byte counts are of what the
 * server sent on that connection, as it crossed the wire (encrypted once TLS is up).
 *
 * - `reset`: a TCP RST to mailsync once the server has sent `afterBytes` (a middlebox or a crashed
 *   server dropping the connection mid-response).
 * - `silent`: after `afterBytes` (default 0), nothing more crosses in either direction and no FIN
 *   is sent: a half-open connection, as when a NAT or firewall forgets the flow.
 * - `drip`: after `afterBytes` (default 0), the server's bytes arrive one every `intervalMs`
 *   (default 1 s): slow enough to never finish, fast enough that an idle-socket timer never fires.
 * - `stallAfterGreeting`: the server's first words reach mailsync, then nothing crosses once
 *   mailsync has spoken: a server that greets and then hangs.
 * - `bandwidth`: at most `bytesPerSecond` each way: a slow but working link.
 * - `latency`: every chunk is held `delayMs` each way before it is passed on, in order: a distant
 *   server (a round trip costs twice `delayMs`), without loss or a bandwidth cap.
 */
export type Fault =
  | { kind: 'none' }
  | { kind: 'reset'; afterBytes: number }
  | { kind: 'silent'; afterBytes?: number }
  | { kind: 'drip'; afterBytes?: number; intervalMs?: number }
  | { kind: 'stallAfterGreeting' }
  | { kind: 'bandwidth'; bytesPerSecond: number }
  | { kind: 'latency'; delayMs: number };

const NONE: Fault = { kind: 'none' };
/** Bandwidth is metered in slices this long, so a cap is smooth rather than one burst a second. */
const SLICE_MS = 100;

/** One direction of a connection: bytes read from one socket, held, and written to the other. */
class Pipe {
  /** Bytes written on so far. */
  delivered = 0;
  readonly #held: Buffer[] = [];
  /** When each held chunk was read (Date.now()), for the latency fault. */
  readonly #heldAt: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly to: net.Socket, readonly onDeliver: (bytes: number) => void) {}

  hold(chunk: Buffer): void {
    this.#held.push(chunk);
    this.#heldAt.push(Date.now());
  }

  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** Loses what is held, as a dead path does. */
  drop(): void {
    this.#held.length = 0;
    this.#heldAt.length = 0;
  }

  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Writes up to `budget` held bytes. */
  deliver(budget: number): void {
    while (budget > 0 && this.#held.length > 0) {
      const head = this.#held[0] as Buffer;
      const part = head.length <= budget ? head : head.subarray(0, budget);
      if (part.length === head.length) {
        this.#held.shift();
        this.#heldAt.shift();
      } else this.#held[0] = head.subarray(part.length);
      this.to.write(part);
      this.delivered += part.length;
      this.onDeliver(part.length);
      budget -= part.length;
    }
  }

  /** Writes the chunks held at least `delayMs`, and calls `next` when the oldest left is due. */
  delayed(delayMs: number, next: () => void): void {
    const now = Date.now();
    while (this.#held.length > 0 && (this.#heldAt[0] as number) + delayMs <= now) this.deliver((this.#held[0] as Buffer).length);
    if (!this.holding || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      next();
    }, (this.#heldAt[0] as number) + delayMs - now);
  }

  /** Writes `bytes` held bytes now, and calls `next` after `everyMs` while some are left. */
  paced(bytes: number, everyMs: number, next: () => void): void {
    this.deliver(bytes);
    if (!this.holding || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      next();
    }, everyMs);
  }
}

/** One proxied connection: the two sockets, each direction's held bytes, and its fault. */
class Link {
  fault: Fault;
  readonly fromServer: Pipe;
  readonly fromClient: Pipe;
  clientSpoke = false;
  #closed = false;

  constructor(readonly client: net.Socket, readonly upstream: net.Socket, fault: Fault, onClose: () => void, onDeliver: (bytes: number) => void) {
    this.fault = fault;
    this.fromServer = new Pipe(client, onDeliver);
    this.fromClient = new Pipe(upstream, () => undefined);
    const close = () => {
      if (this.#closed) return;
      this.#closed = true;
      this.fromServer.stopTimer();
      this.fromClient.stopTimer();
      client.destroy();
      upstream.destroy();
      onClose();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      this.clientSpoke = true;
      this.fromClient.hold(chunk);
      this.pump();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.fromServer.hold(chunk);
      this.pump();
    });
  }

  /** Changes the fault now; bytes held back by the previous one are handled by the new one. */
  set(fault: Fault): void {
    this.fault = fault;
    this.fromServer.stopTimer();
    this.fromClient.stopTimer();
    this.pump();
  }

  /** Sends a TCP RST to mailsync and closes the server side: the connection is cut at once. */
  reset(): void {
    if (this.#closed) return;
    this.client.resetAndDestroy();
    this.upstream.destroy();
  }

  /** Moves held bytes on, in both directions, as far as the fault allows. */
  pump(): void {
    if (this.#closed) return;
    const f = this.fault;
    const up = this.fromClient;
    const down = this.fromServer;
    const pump = () => this.pump();
    switch (f.kind) {
      case 'none':
        up.deliver(Infinity);
        down.deliver(Infinity);
        return;
      case 'reset':
        up.deliver(Infinity);
        down.deliver(f.afterBytes - down.delivered);
        if (down.delivered >= f.afterBytes && down.holding) this.reset();
        return;
      case 'silent': {
        // A black hole past the limit: what either side sends is lost, and no FIN is sent.
        const open = down.delivered < (f.afterBytes ?? 0);
        if (open) up.deliver(Infinity);
        else up.drop();
        down.deliver((f.afterBytes ?? 0) - down.delivered);
        if (down.delivered >= (f.afterBytes ?? 0)) down.drop();
        return;
      }
      case 'stallAfterGreeting':
        up.drop();
        if (this.clientSpoke) down.drop();
        else down.deliver(Infinity);
        return;
      case 'drip':
        up.deliver(Infinity);
        down.deliver((f.afterBytes ?? 0) - down.delivered);
        if (!down.waiting) down.paced(1, f.intervalMs ?? 1_000, pump);
        return;
      case 'bandwidth': {
        const slice = Math.max(1, Math.floor((f.bytesPerSecond * SLICE_MS) / 1_000));
        if (!up.waiting) up.paced(slice, SLICE_MS, pump);
        if (!down.waiting) down.paced(slice, SLICE_MS, pump);
        return;
      }
      case 'latency':
        up.delayed(f.delayMs, pump);
        down.delayed(f.delayMs, pump);
        return;
    }
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of one server (Dovecot, the SMTP lab), whose fault is switched
 * at run time: `set` for connections from now on and those open, `setOpen` for the open ones only
 * (a kept session), `resetOpen` to cut every open connection now, `clear` to heal the path. It
 * works below TLS, so mailsync talks to the real server through it with the real certificate.
 */
export class FaultProxy {
  /** Connections accepted since the start. */
  accepted = 0;
  /** Server bytes that reached mailsync since the start, over every connection. */
  delivered = 0;
  #fault: Fault = NONE;
  readonly #links = new Set<Link>();
  readonly #server: net.Server;
  port = 0;

  private constructor(readonly targetPort: number) {
    this.#server = net.createServer((client) => {
      this.accepted += 1;
      const upstream = net.connect(targetPort, '127.0.0.1');
      const link = new Link(client, upstream, this.#fault, () => this.#links.delete(link), (n) => {
        this.delivered += n;
      });
      this.#links.add(link);
    });
  }

  static async start(targetPort: number): Promise<FaultProxy> {
    const p = new FaultProxy(targetPort);
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve));
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  /** The fault for new connections and for the open ones. */
  set(fault: Fault): void {
    this.#fault = fault;
    this.setOpen(fault);
  }

  /** The fault for the connections open now only; new ones keep the proxy's fault. */
  setOpen(fault: Fault): void {
    for (const link of this.#links) link.set(fault);
  }

  /** Cuts every open connection with a RST now. */
  resetOpen(): void {
    for (const link of [...this.#links]) link.reset();
  }

  /** Heals the path: no fault for new connections or the open ones. */
  clear(): void {
    this.set(NONE);
  }

  get fault(): Fault {
    return this.#fault;
  }

  /** Connections open now. */
  get open(): number {
    return this.#links.size;
  }

  async stop(): Promise<void> {
    for (const link of [...this.#links]) link.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
