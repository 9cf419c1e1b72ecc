import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CycleOutcome } from '../sync/cycle.js';
import { VERSION } from '../version.js';

/**
 * Runner-level metrics. Every metric is defined here, on the registry passed in; sync code never
 * touches them: the service reports each cycle's outcome through `observeCycle`. docs/metrics.md
 * lists them. Per-mailbox series arrive with the metrics work (issue 5).
 */
export function createMetrics(registry: Registry, gauges: { inFlight: () => number; queueDepth: () => number; mailboxes: () => number }) {
  const registers = [registry];
  const runs = new Counter({
    name: 'mailsync_sync_runs_total', help: 'Sync cycles finished, by direction and result (success, failure, aborted).',
    labelNames: ['direction', 'result'] as const, registers,
  });
  const items = new Counter({
    name: 'mailsync_items_processed_total', help: 'Messages handled by sync cycles (stored, already stored, or failed as an item).',
    labelNames: ['direction'] as const, registers,
  });
  const stored = new Counter({
    name: 'mailsync_emails_stored_total', help: 'Emails stored for the first time (a message already stored for the mailbox is not counted again).',
    labelNames: ['direction'] as const, registers,
  });
  const itemsFailed = new Counter({
    name: 'mailsync_items_failed_total', help: 'Item-level failures (one message failed, the mailbox kept going), by code.',
    labelNames: ['direction', 'code'] as const, registers,
  });
  const cycleErrors = new Counter({
    name: 'mailsync_sync_errors_total', help: 'Failed sync cycles, by direction and error code.',
    labelNames: ['direction', 'code'] as const, registers,
  });
  const duration = new Histogram({
    name: 'mailsync_sync_duration_seconds', help: 'Duration of sync cycles, by direction and profile.',
    labelNames: ['direction', 'profile'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers,
  });
  new Gauge({
    name: 'mailsync_build_info', help: 'Always 1; the labels say which mailsync and Node.js are running.',
    labelNames: ['version', 'nodejs_version'] as const, registers,
  }).set({ version: VERSION, nodejs_version: process.version }, 1);
  new Gauge({
    name: 'mailsync_scheduler_in_flight', help: 'Sync cycles running now.', registers,
    collect() { this.set(gauges.inFlight()); },
  });
  new Gauge({
    name: 'mailsync_scheduler_queue_depth', help: 'Sync cycles that are due but wait for a free slot.', registers,
    collect() { this.set(gauges.queueDepth()); },
  });
  new Gauge({
    name: 'mailsync_mailboxes_configured', help: 'Mailboxes in the loaded config.', registers,
    collect() { this.set(gauges.mailboxes()); },
  });

  return {
    observeCycle(outcome: CycleOutcome, profile: string): void {
      const direction = outcome.direction;
      runs.inc({ direction, result: outcome.result });
      duration.observe({ direction, profile }, outcome.durationSeconds);
      if (outcome.result === 'failure') {
        cycleErrors.inc({ direction, code: outcome.code });
        return;
      }
      items.inc({ direction }, outcome.itemsProcessed);
      for (const folder of outcome.folders) {
        stored.inc({ direction }, folder.inserted);
        for (const [code, n] of Object.entries(folder.failedByCode)) itemsFailed.inc({ direction, code }, n);
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
