import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CycleOutcome } from '../directions/run.js';
import { VERSION } from '../version.js';
import { renderFleet, type FleetInput } from './fleet.js';

export { readFleet } from './fleet.js';

export interface MetricsDeps {
  inFlight: () => number;
  queueDepth: () => number;
  mailboxes: () => number;
  /** Reads the fleet's state from the store; called on every scrape. */
  fleet: () => Promise<FleetInput>;
  /** Told when reading the fleet failed (the rest of the scrape is still served). */
  onFleetError?: (error: unknown) => void;
}

/**
 * Every metric of mailsync, on the registry passed in (docs/metrics.md is the contract). Events
 * (cycles) are counted by profile in this process through `observeCycle`; the state of each
 * mailbox and profile is read from the store at scrape time (`scrape`). Sync code never touches
 * metrics.
 */
export function createMetrics(registry: Registry, deps: MetricsDeps) {
  const registers = [registry];
  const runs = new Counter({
    name: 'mailsync_sync_runs_total', help: 'Sync runs finished in this process, by direction, profile and result (success, failure, aborted).',
    labelNames: ['direction', 'profile', 'result'] as const, registers,
  });
  const retries = new Counter({
    name: 'mailsync_sync_retries_total', help: 'Runs started after a failed one (retry attempts), by direction and profile.',
    labelNames: ['direction', 'profile'] as const, registers,
  });
  const errors = new Counter({
    name: 'mailsync_sync_errors_total', help: 'Failed runs by direction, profile, class, scope and taxonomy code.',
    labelNames: ['direction', 'profile', 'class', 'scope', 'code'] as const, registers,
  });
  const items = new Counter({
    name: 'mailsync_items_processed_total', help: 'Messages handled by sync runs (stored, already stored, or failed as an item).',
    labelNames: ['direction', 'profile'] as const, registers,
  });
  const stored = new Counter({
    name: 'mailsync_emails_stored_total', help: 'Emails stored for the first time (a message already stored for the mailbox is not counted again).',
    labelNames: ['direction', 'profile'] as const, registers,
  });
  const itemsFailed = new Counter({
    name: 'mailsync_items_failed_total', help: 'Item-level failures (one message failed, the mailbox kept going), by code.',
    labelNames: ['direction', 'profile', 'code'] as const, registers,
  });
  const duration = new Histogram({
    name: 'mailsync_sync_duration_seconds', help: 'Duration of sync runs, by direction and profile.',
    labelNames: ['direction', 'profile'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers,
  });
  new Gauge({
    name: 'mailsync_build_info', help: 'Always 1; the labels say which mailsync and Node.js are running.',
    labelNames: ['version', 'nodejs_version'] as const, registers,
  }).set({ version: VERSION, nodejs_version: process.version }, 1);
  new Gauge({
    name: 'mailsync_scheduler_in_flight', help: 'Sync runs in progress now.', registers,
    collect() { this.set(deps.inFlight()); },
  });
  new Gauge({
    name: 'mailsync_scheduler_queue_depth', help: 'Sync runs that are due but wait for a free slot.', registers,
    collect() { this.set(deps.queueDepth()); },
  });
  new Gauge({
    name: 'mailsync_mailboxes_configured', help: 'Mailboxes in the loaded config.', registers,
    collect() { this.set(deps.mailboxes()); },
  });
  const reloadOk = new Gauge({
    name: 'mailsync_config_last_reload_successful', help: '1 if the last config (re)load was applied, 0 if it was rejected.', registers,
  });
  const reloadAt = new Gauge({
    name: 'mailsync_config_last_reload_success_timestamp_seconds', help: 'When the config was last loaded or reloaded successfully.', registers,
  });
  const storeErrors = new Counter({
    name: 'mailsync_store_errors_total', help: 'Failed reads of the store while serving a scrape (the state families are then missing).', registers,
  });

  return {
    observeCycle(outcome: CycleOutcome, profile: string, retry: boolean): void {
      const direction = outcome.direction;
      runs.inc({ direction, profile, result: outcome.result });
      if (retry) retries.inc({ direction, profile });
      duration.observe({ direction, profile }, outcome.durationSeconds);
      if (outcome.result === 'failure') {
        errors.inc({ direction, profile, class: outcome.class, scope: outcome.scope, code: outcome.code });
        return;
      }
      items.inc({ direction, profile }, outcome.itemsProcessed);
      stored.inc({ direction, profile }, outcome.stored);
      for (const [code, n] of Object.entries(outcome.failedByCode)) itemsFailed.inc({ direction, profile, code }, n);
    },

    /** Records the outcome of loading the config (at start and on every reload). */
    configLoaded(ok: boolean, at: number): void {
      reloadOk.set(ok ? 1 : 0);
      if (ok) reloadAt.set(at / 1_000);
    },

    contentType: registry.contentType,

    /** The whole exposition: the registry's metrics, then the fleet state read from the store. */
    async scrape(): Promise<string> {
      let fleet = '';
      try {
        fleet = renderFleet(await deps.fleet()).text;
      } catch (error) {
        storeErrors.inc();
        deps.onFleetError?.(error);
      }
      return (await registry.metrics()) + fleet;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
