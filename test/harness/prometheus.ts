import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * Debian's Prometheus on 127.0.0.1, scraping the given targets every second, with a throwaway
 * TSDB that `stop()` removes. `rules` are rule files to load (the alert tests use them).
 */
export class Prometheus {
  readonly url: string;
  readonly #dir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #output = '';

  private constructor(dir: string, port: number, child: ChildProcess) {
    this.#dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.#child = child;
    child.stdout?.on('data', (d) => (this.#output += d));
    child.stderr?.on('data', (d) => (this.#output += d));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(options: { targets: string[]; rules?: string[]; alertmanagers?: string[]; evaluationSeconds?: number }): Promise<Prometheus> {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-prometheus-'));
    const port = await freePort();
    const interval = `${options.evaluationSeconds ?? 1}s`;
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify({
      global: { scrape_interval: '1s', evaluation_interval: interval },
      rule_files: options.rules ?? [],
      ...(options.alertmanagers ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } } : {}),
      scrape_configs: [{ job_name: 'mailsync', static_configs: [{ targets: options.targets }] }],
    }));
    const child = spawn('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      // Unchanged firing alerts are re-sent to Alertmanager after this delay (1 min by default):
      // shortened like the evaluation, so that an updated annotation reaches it within seconds.
      '--rules.alert.resend-delay=1s',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Prometheus(dir, port, child);
    const ready = async () => {
      if (child.exitCode !== null) throw new Error('prometheus exited during start');
      return fetch(`${p.url}/-/ready`).then((r) => r.ok, () => false);
    };
    try {
      await waitFor(ready, { what: 'prometheus to be ready', timeoutMs: 20_000, intervalMs: 100 });
    } catch (error) {
      await p.stop();
      throw new Error(`${(error as Error).message}: ${p.#output}`);
    }
    return p;
  }

  /** An instant query; throws with Prometheus' error for a bad expression. */
  async query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = await res.json() as { status: string; error?: string; data?: { result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data?.result ?? [];
  }

  /** Polls `expr` until `done` accepts the result. */
  async waitFor(expr: string, done: (r: PromSample[]) => boolean, timeoutMs = 20_000): Promise<PromSample[]> {
    return waitFor(() => this.query(expr), { what: expr, until: done, timeoutMs, intervalMs: 250 });
  }

  /** When the rule group evaluated longest ago last ran (ms since the epoch; 0 before each ran once). */
  async rulesEvaluatedAt(): Promise<number> {
    const body = await (await fetch(`${this.url}/api/v1/rules`)).json() as { data: { groups: { lastEvaluation: string }[] } };
    return Math.min(...body.data.groups.map((g) => Math.max(0, Date.parse(g.lastEvaluation))));
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.#exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** `promtool check metrics` on an exposition; returns its output (empty when clean). */
export function promtoolCheckMetrics(exposition: string): { ok: boolean; output: string } {
  try {
    const output = execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return { ok: true, output };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
