import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface Notification {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }[];
}

/** Collects Alertmanager's webhook notifications; the path names the receiver. */
export class WebhookSink {
  readonly notifications: Notification[] = [];
  #server: Server;
  port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const n = JSON.parse(body) as Omit<Notification, 'receiver'>;
        this.notifications.push({ ...n, receiver: (req.url ?? '/').slice(1) });
        res.end();
      });
    });
  }

  static async start(): Promise<WebhookSink> {
    const s = new WebhookSink();
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.port = (s.#server.address() as AddressInfo).port;
    return s;
  }

  url(receiver: string): string {
    return `http://127.0.0.1:${this.port}/${receiver}`;
  }

  /** Every alert seen, as receiver/status/alertname/key-label strings, for set comparisons. */
  alerts(): { receiver: string; status: string; labels: Record<string, string>; annotations: Record<string, string> }[] {
    return this.notifications.flatMap((n) => n.alerts.map((a) => ({ receiver: n.receiver, status: a.status, labels: a.labels, annotations: a.annotations })));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Debian's Alertmanager on 127.0.0.1 running the project's example routing, with every receiver
 * rewritten to a webhook on `sink` and the timers shortened for a test.
 */
export class Alertmanager {
  readonly url: string;
  readonly #dir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(dir: string, port: number, child: ChildProcess) {
    this.#dir = dir;
    this.url = `127.0.0.1:${port}`;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(exampleConfig: string, sink: WebhookSink): Promise<Alertmanager> {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-alertmanager-'));
    const config = parse(readFileSync(exampleConfig, 'utf8')) as {
      route: Record<string, unknown> & { routes?: Record<string, unknown>[] };
      receivers: { name: string }[];
    };
    const fast = { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' };
    Object.assign(config.route, fast);
    for (const r of config.route.routes ?? []) for (const k of Object.keys(fast)) if (k in r) r[k] = fast[k as keyof typeof fast];
    config.receivers = config.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url: sink.url(r.name), send_resolved: true }] }));
    writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(config));
    const port = await freePort();
    let output = '';
    const child = spawn('prometheus-alertmanager', [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const am = new Alertmanager(dir, port, child);
    const ready = async () => {
      if (child.exitCode !== null) throw new Error('alertmanager exited during start');
      return fetch(`http://${am.url}/-/ready`).then((r) => r.ok, () => false);
    };
    try {
      await waitFor(ready, { what: 'alertmanager to be ready', timeoutMs: 20_000, intervalMs: 100 });
    } catch (error) {
      await am.stop();
      throw new Error(`alertmanager did not start (${(error as Error).message}): ${output}`);
    }
    return am;
  }

  /** Each alert Alertmanager holds, once per receiver it routes it to, whether notified yet or not. */
  async routed(): Promise<{ receiver: string; state: string; labels: Record<string, string> }[]> {
    const groups = await (await fetch(`http://${this.url}/api/v2/alerts/groups`)).json() as
      { receiver: { name: string }; alerts: { labels: Record<string, string>; status: { state: string } }[] }[];
    return groups.flatMap((g) => g.alerts.map((a) => ({ receiver: g.receiver.name, state: a.status.state, labels: a.labels })));
  }

  /**
   * The alerts Alertmanager holds and has not seen resolved. The fingerprint is the hash of the
   * labels, the alert's identity: the same fingerprint and startsAt means the same alert, never
   * resolved and fired again in between.
   */
  async alerts(): Promise<{ fingerprint: string; startsAt: string; labels: Record<string, string>; annotations: Record<string, string> }[]> {
    return await (await fetch(`http://${this.url}/api/v2/alerts`)).json() as
      { fingerprint: string; startsAt: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.#exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
