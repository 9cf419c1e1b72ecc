import type { Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../metrics/prom.js';
import type { OutboxStats } from '../store/index.js';

export const DELIVERY_RESULTS = ['delivered', 'retry', 'dead'] as const;
export type DeliveryResult = (typeof DELIVERY_RESULTS)[number];

export interface WebhookMetrics {
  /** Starts the counters of these webhooks at 0, so rate() sees their first failure (start, reload). */
  configured(webhooks: readonly string[]): void;
  delivered(webhook: string, result: DeliveryResult): void;
}

/**
 * The webhook families (families.ts). Labels are the configured webhooks only, so their number is
 * bounded by the config. The outbox gauges read the store at each scrape (a small GROUP BY).
 */
export interface WebhookOutboxDeps {
  webhooks: () => readonly string[];
  outbox: () => Promise<OutboxStats[]>;
  now: () => number;
}

export function registerWebhookMetrics(registry: Registry, deps: WebhookOutboxDeps): WebhookMetrics {
  const deliveries = counter(registry, 'mailsync_webhook_deliveries_total');
  const fill = (g: Gauge<'webhook'>, value: (s: OutboxStats | undefined) => number) => async () => {
    g.reset();
    // A store that cannot be read leaves these out of the scrape, like the other store families
    // (the fleet read counts the store error once); the rest of the scrape is still served.
    const rows = await deps.outbox().catch(() => undefined);
    if (!rows) return;
    const byId = new Map(rows.map((r) => [r.webhookId, r]));
    for (const w of deps.webhooks()) g.set({ webhook: w }, value(byId.get(w)));
  };
  const pending = gauge(registry, 'mailsync_webhook_outbox_pending');
  const oldest = gauge(registry, 'mailsync_webhook_oldest_pending_age_seconds');
  const dead = gauge(registry, 'mailsync_webhook_dead_letters');
  collectWith(pending, fill(pending, (s) => s?.pending ?? 0));
  collectWith(oldest, fill(oldest, (s) => (s?.oldestPendingAt ? Math.max(0, (deps.now() - s.oldestPendingAt) / 1_000) : 0)));
  collectWith(dead, fill(dead, (s) => s?.dead ?? 0));
  return {
    configured(webhooks) {
      for (const webhook of webhooks) for (const result of DELIVERY_RESULTS) deliveries.inc({ webhook, result }, 0);
    },
    delivered(webhook, result) {
      deliveries.inc({ webhook, result });
    },
  };
}

/** prom-client awaits a collect() that returns a promise; the helper in metrics/prom.ts types it as sync. */
function collectWith(g: Gauge<'webhook'>, collect: () => Promise<void>): void {
  (g as unknown as { collect: () => Promise<void> }).collect = collect;
}
