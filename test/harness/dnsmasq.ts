import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface SrvRecord {
  name: string;
  target: string;
  port: number;
}

/**
 * Debian's dnsmasq on 127.0.0.1 at a high port, answering only what the test gives it: SRV
 * records, and NXDOMAIN for every other name under `.test`. No upstream, no /etc/hosts.
 */
export class Dnsmasq {
  readonly port: number;
  #child: ChildProcess;
  #exited: Promise<void>;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(records: SrvRecord[]): Promise<Dnsmasq> {
    const port = await freePort();
    const args = [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll',
      `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--pid-file=', '--local=/test/',
      ...records.map((r) => `--srv-host=${r.name},${r.target},${r.port},0,0`),
    ];
    let output = '';
    const child = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const d = new Dnsmasq(port, child);
    const failed = d.#exited.then(() => {
      throw new Error(`dnsmasq exited during start: ${output}`);
    });
    await Promise.race([d.#ready(), failed]);
    return d;
  }

  /** Resolves once dnsmasq answers a query (NXDOMAIN counts as an answer). */
  async #ready(): Promise<void> {
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([this.server]);
    const answers = () => resolver.resolveSrv('_probe._tcp.ready.test').then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND',
    );
    await waitFor(answers, { what: `dnsmasq to answer on ${this.server}`, timeoutMs: 10_000 });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.#exited;
    }
  }
}
