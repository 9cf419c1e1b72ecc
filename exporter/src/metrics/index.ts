import type { Registry } from 'prom-client';
import type { CycleOutcome } from '../directions/run.js';
import type { Direction } from '../store/index.js';
import { VERSION } from '../version.js';
import type { FleetInput } from './fleet.js';
import type { LoopBudget } from './loop-budget.js';
import { registerLeaseMetrics, type LeaseMetricsDeps } from './leases.js';
import { CONTENT_TYPES, type ExpositionFormat } from './format.js';
import { MailboxTextCache } from './mailbox-cache.js';
import { registerProfileFamilies, type ProfileAggregates } from './profiles.js';
import { counter, gauge, histogram } from './prom.js';
import { registerRuntimeMetrics } from './runtime.js';
import { coalesce } from './coalesce.js';
import { createExposition } from './scrape.js';
import { registerWebhookMetrics, type WebhookOutboxDeps } from '../webhooks/metrics.js';

export { readFleet } from './fleet.js';
export { formatOfMediaType, OFFERED_MEDIA_TYPES, type ExpositionFormat } from './format.js';

export interface MetricsDeps {
  inFlight: () => number;
  queueDepth: () => number;
  mailboxes: () => number;
  /** The running config's organization.retry.maxTransientRetries (alert texts quote it). */
  retryBudget: () => number;
  /** Reads the fleet's state from the store; called once on every scrape (it may spend the scrape's loop budget). */
  fleet: (budget: LoopBudget) => Promise<FleetInput>;
  /** Told when reading the fleet failed (the rest of the scrape is still served). */
  onFleetError?: (error: unknown) => void;
  /** F: the configured webhooks and their outbox (none when left out). */
  webhooks?: WebhookOutboxDeps;
  /** B: this runner's leases; per-mailbox series are written for held mailbox directions only (none: all). */
  leases?: LeaseMetricsDeps;
}

/**
 * Every metric of mailsync, on the registry passed in (docs/metrics.md is the contract, families.ts
 * the table of them). Events (cycles) are counted by profile in this process through
 * `observeCycle`; the state of each mailbox and profile is read from the store at scrape time
 * (`scrape`). Sync code never touches metrics.
 */
export function createMetrics(registry: Registry, deps: MetricsDeps) {
  registerRuntimeMetrics(registry);
  const runs = counter(registry, 'mailsync_sync_runs_total');
  const retries = counter(registry, 'mailsync_sync_retries_total');
  const errors = counter(registry, 'mailsync_sync_errors_total');
  const items = counter(registry, 'mailsync_items_processed_total');
  const stored = counter(registry, 'mailsync_emails_stored_total');
  const itemsFailed = counter(registry, 'mailsync_items_failed_total');
  const duration = histogram(registry, 'mailsync_sync_duration_seconds', [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300]);
  // From "pushed at once" (IDLE: about a second) to "waited for the poll" (5 minutes) and beyond.
  const lag = histogram(registry, 'mailsync_sync_lag_seconds', [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3_600]);
  gauge(registry, 'mailsync_build_info').set({ version: VERSION, nodejs_version: process.version }, 1);
  gauge(registry, 'mailsync_scheduler_in_flight', function () { this.set(deps.inFlight()); });
  gauge(registry, 'mailsync_scheduler_queue_depth', function () { this.set(deps.queueDepth()); });
  gauge(registry, 'mailsync_mailboxes_configured', function () { this.set(deps.mailboxes()); });
  gauge(registry, 'mailsync_config_max_transient_retries', function () { this.set(deps.retryBudget()); });
  const reloadOk = gauge(registry, 'mailsync_config_last_reload_successful');
  const reloadAt = gauge(registry, 'mailsync_config_last_reload_success_timestamp_seconds');
  const storeErrors = counter(registry, 'mailsync_store_errors_total');

  // Each mailbox's lines, kept between scrapes until its state in the store changes.
  const mailboxCache = new MailboxTextCache();
  // The aggregates of the latest scrape's store read; the per-profile collectors read them.
  let profiles: ProfileAggregates | undefined;
  registerProfileFamilies(registry, () => profiles);
  const leases = deps.leases ? registerLeaseMetrics(registry, deps.leases) : undefined;
  const webhooks = registerWebhookMetrics(registry, deps.webhooks ?? { webhooks: () => [], outbox: async () => [], now: () => 0 });

  const expose = createExposition({
    registry, fleet: deps.fleet, mailboxCache, holds: deps.leases?.holds,
    ...(leases ? { readLeases: () => leases.read() } : {}),
    setProfiles: (aggregates) => {
      profiles = aggregates;
    },
    storeFailed: (error) => {
      storeErrors.inc();
      deps.onFleetError?.(error);
    },
  });
  // Scrapes arriving while one is served share the next one (metrics/coalesce.ts), per format.
  const coalesced = { prometheus: coalesce(() => expose('prometheus')), openmetrics: coalesce(() => expose('openmetrics')) };
  const exposition = (format: ExpositionFormat = 'prometheus') => coalesced[format]();

  return {
    webhooks,
    /** B: held leases whose renewal failed. */
    leaseRenewalsFailed: (n: number) => leases?.renewalsFailed(n),
    /** B: a cycle whose writes were refused because its lease was taken over. */
    fenced: (direction: Direction) => leases?.fenced(direction),
    /** A write the store could not take outside a cycle (Test & Enable's result). */
    storeFault: () => storeErrors.inc(),
    observeCycle(outcome: CycleOutcome, profile: string, retry: boolean): void {
      const direction = outcome.direction;
      runs.inc({ direction, profile, result: outcome.result });
      if (retry) retries.inc({ direction, profile });
      duration.observe({ direction, profile }, outcome.durationSeconds);
      // A cycle the store could not record counts with the scrapes that could not read it: one
      // family for "the store is failing", whatever the operation.
      if (outcome.result !== 'failure' && outcome.storeFault) storeErrors.inc();
      if (outcome.result === 'failure') {
        errors.inc({ direction, profile, class: outcome.class, scope: outcome.scope, code: outcome.code });
        return;
      }
      items.inc({ direction, profile }, outcome.itemsProcessed);
      for (const f of outcome.folders) for (const seconds of f.lagSeconds ?? []) lag.observe({ profile }, seconds);
      stored.inc({ direction, profile }, outcome.stored);
      for (const [code, n] of Object.entries(outcome.failedByCode)) itemsFailed.inc({ direction, profile, code }, n);
    },

    /** Records the outcome of loading the config (at start and on every reload). */
    configLoaded(ok: boolean, at: number): void {
      reloadOk.set(ok ? 1 : 0);
      if (ok) reloadAt.set(at / 1_000);
    },

    contentType(format: ExpositionFormat): string {
      return CONTENT_TYPES[format];
    },

    /**
     * The whole exposition, encoded: the store is read once, its per-profile aggregates go to the
     * prom-client collectors and its per-mailbox state is served after the registry's output, in
     * the text format or OpenMetrics (then ended by `# EOF` after the mailbox text).
     */
    exposition,

    /** The same, as text (tests and tools; /metrics serves the bytes). */
    async scrape(format: ExpositionFormat = 'prometheus'): Promise<string> {
      return (await exposition(format)).toString('utf8');
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
