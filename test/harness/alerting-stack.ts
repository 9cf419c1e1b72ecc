import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Alertmanager, type WebhookSink } from './alertmanager.js';
import { startCli, type Running } from './cli.js';
import { Prometheus } from './prometheus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The project's own alerting as users deploy it: a real Prometheus scraping the runner at
 * `runnerUrl` with every rule file of alerts/rules, and a real Alertmanager with the example
 * routing (alerts/alertmanager.yml), its receivers pointed at `sink`.
 */
export async function startAlertingStack(runnerUrl: string, sink: WebhookSink): Promise<{ prometheus: Prometheus; alertmanager: Alertmanager }> {
  const alertmanager = await Alertmanager.start(path.join(root, 'alerts/alertmanager.yml'), sink);
  const rulesDir = path.join(root, 'alerts/rules');
  const prometheus = await Prometheus.start({
    targets: [new URL(runnerUrl).host],
    rules: readdirSync(rulesDir).map((f) => path.join(rulesDir, f)),
    alertmanagers: [alertmanager.url],
  });
  return { prometheus, alertmanager };
}

export interface RunnerWithAlerting {
  run: Running;
  url: string;
  prometheus: Prometheus;
  alertmanager: Alertmanager;
  /** Stops Prometheus, Alertmanager, then the runner (the sink is the caller's). */
  stop(): Promise<void>;
}

/** A real `mailsync run` of the lab config, once it has started, with the alerting stack on it. */
export async function startRunnerWithAlerting(lab: { file: string; env: NodeJS.ProcessEnv }, sink: WebhookSink): Promise<RunnerWithAlerting> {
  const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
  const { prometheus, alertmanager } = await startAlertingStack(url, sink);
  return {
    run, url, prometheus, alertmanager,
    stop: async () => {
      await prometheus.stop();
      await alertmanager.stop();
      await run.stop();
    },
  };
}
