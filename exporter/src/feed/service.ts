import type { Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { WebhookMetrics } from '../webhooks/metrics.js';
import { WebhookWorker } from '../webhooks/worker.js';
import { feedRoutes, type RouteHelpers } from './routes.js';

/** How often old changes are pruned (feed.retentionDays, feed.maxChanges). */
const PRUNE_INTERVAL_MS = 3_600_000;

export interface Feed {
  routes: (helpers: RouteHelpers) => Router;
  /** The config was reloaded: webhooks added, removed or changed. */
  reloaded(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The way out of the store: the change feed's routes, the webhook worker, the outbox metrics and
 * the retention of old changes. Started once by the service, told about reloads.
 */
export async function startFeed(deps: { store: Store; clock: Clock; logger: Logger; metrics: WebhookMetrics; config: () => Config }): Promise<Feed> {
  const { store, clock, logger, config, metrics } = deps;
  const stopping = new AbortController();
  const ids = () => config().webhooks.map((w) => w.id);
  const subscribe = async () => {
    const dropped = await store.feed.setWebhooks(config().webhooks.map((w) => ({ id: w.id, kinds: w.events })));
    if (dropped > 0) logger.warn({ dropped, webhooks: ids() }, 'dropped the pending deliveries of webhooks no longer in the config (their dead deliveries stay listed)');
    metrics.configured(ids());
  };
  await subscribe();
  const worker = new WebhookWorker({ store, clock, logger, metrics, webhooks: () => config().webhooks });
  worker.start();

  const prune = async () => {
    const { retentionDays, maxChanges } = config().feed;
    const removed = await store.feed.prune(clock.now() - retentionDays * 86_400_000, maxChanges);
    if (removed > 0) logger.info({ removed, retentionDays, maxChanges }, 'pruned old changes from the feed');
  };
  const runPrune = () => void prune().catch((error: unknown) => logger.error({ err: error }, 'could not prune the change feed'));
  runPrune();
  const timer = setInterval(runPrune, PRUNE_INTERVAL_MS);
  timer.unref();

  return {
    routes: (helpers) => feedRoutes({ store, clock, stopping: stopping.signal, wakeWebhooks: () => worker.wake(), webhooks: ids }, helpers),
    async reloaded() {
      await subscribe();
      worker.wake();
    },
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await worker.stop();
    },
  };
}
