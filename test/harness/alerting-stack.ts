import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Alertmanager, type WebhookSink } from './alertmanager.js';
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
