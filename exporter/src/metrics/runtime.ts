import { collectDefaultMetrics, Registry } from 'prom-client';
import { FAMILIES } from './families.js';

/** The runtime families the table keeps (producer `runtime`). */
export const RUNTIME_FAMILIES: readonly string[] = FAMILIES.filter((f) => f.producer === 'runtime').map((f) => f.name);

/**
 * Registers the standard process and Node.js metrics on `registry` (never prom-client's global
 * one, so that tests and two runners in one process do not share them). prom-client registers all
 * of its defaults at once; they are collected on a registry of their own and only the families in
 * the table move to `registry`, so what is served is what families.ts and docs/metrics.md say.
 * Left out: the `nodejs_active_*_total` gauges (a gauge named `_total` fails `promtool check
 * metrics`; the same counts are the sum of the `nodejs_active_*{type}` series).
 */
export function registerRuntimeMetrics(registry: Registry): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  for (const name of RUNTIME_FAMILIES) {
    const metric = defaults.getSingleMetric(name);
    // A prom-client upgrade that renames or drops one of them must not silently shrink /metrics.
    // (The /proc-based ones, such as process_open_fds, exist on Linux only.)
    if (!metric && process.platform !== 'linux') continue;
    if (!metric) throw new Error(`prom-client's default metrics no longer include ${name} (exporter/src/metrics/families.ts lists it)`);
    registry.registerMetric(metric);
  }
}
