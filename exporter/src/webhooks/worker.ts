import type { Clock } from '../clock.js';
import type { Webhook } from '../config/index.js';
import type { Logger } from '../log.js';
import { nextDeliveryAttempt } from '../policy/webhook-retry.js';
import type { Store, WebhookDelivery } from '../store/index.js';
import type { Agent } from 'node:http';
import { postDelivery, webhookAgent } from './post.js';
import type { WebhookMetrics } from './metrics.js';

export interface WorkerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: WebhookMetrics;
  /** The running config's webhooks (a reload changes them). */
  webhooks: () => readonly Webhook[];
  random?: () => number;
}

/** The longest the worker sleeps without looking at the outbox (a missed wake-up costs at most this). */
const MAX_SLEEP_MS = 30_000;

/**
 * Delivers the outbox. It runs beside the sync, never inside it: a change only writes its outbox
 * row (in the change's transaction) and wakes the worker. Per webhook at most `concurrency`
 * deliveries are in flight; each is leased in the store for its timeout, so a crash mid-delivery
 * lets it fall due again (at least once). A stop aborts the requests in flight and leaves their
 * deliveries pending for the next start.
 */
export class WebhookWorker {
  readonly #deps: WorkerDeps;
  readonly #abort = new AbortController();
  readonly #inFlight = new Map<string, Set<Promise<void>>>();
  /** Per webhook id and URL: a reload that changes the URL gets a new pool. */
  readonly #agents = new Map<string, Agent>();
  #pumping: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#unsubscribe = this.#deps.store.changes.subscribe(() => this.wake());
    this.wake();
  }

  /** Looks at the outbox now (a change committed, a replay, a reload). */
  wake(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'webhook worker could not read the outbox; trying again later');
      this.#sleep(MAX_SLEEP_MS);
    }).finally(() => {
      this.#pumping = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    await this.#pumping;
    await Promise.all([...this.#inFlight.values()].flatMap((s) => [...s]));
    for (const agent of this.#agents.values()) agent.destroy();
  }

  #agent(webhook: Webhook): Agent {
    const key = `${webhook.id} ${webhook.url} ${webhook.concurrency}`;
    let agent = this.#agents.get(key);
    if (!agent) this.#agents.set(key, (agent = webhookAgent(webhook)));
    return agent;
  }

  async #pump(): Promise<void> {
    const { store, clock } = this.#deps;
    const webhooks = this.#deps.webhooks();
    // No webhook, no delivery to look for (a reload that adds one wakes the worker): every commit
    // with changes wakes every runner's worker, and this read was then two statements a mailbox.
    if (webhooks.length === 0) return;
    for (const webhook of webhooks) {
      const running = this.#running(webhook.id);
      const free = webhook.concurrency - running.size;
      // Refilled once half the slots are free, not at each delivery's end: a claim is a write
      // transaction, and one per delivery was the worker's largest cost (bench:feed's profile).
      if (free <= 0 || (running.size > 0 && free < Math.ceil(webhook.concurrency / 2))) continue;
      const now = clock.now();
      // The lease outlasts the request's timeout, so a live delivery is never claimed twice.
      const claimed = await store.feed.claimDeliveries(webhook.id, now, free, now + webhook.timeoutSeconds * 1_000 + 5_000);
      for (const d of claimed) this.#start(webhook, d);
    }
    // While deliveries are in flight, each one's end pumps again: the timer is set when the last ends.
    if ([...this.#inFlight.values()].some((running) => running.size > 0)) return;
    const next = await store.feed.nextDueAt(webhooks.map((w) => w.id));
    if (next !== undefined) this.#sleep(Math.max(0, next - clock.now()));
  }

  #start(webhook: Webhook, delivery: WebhookDelivery): void {
    const running = this.#running(webhook.id);
    const task = this.#deliver(webhook, delivery).catch((error: unknown) => {
      this.#deps.logger.error({ webhook: webhook.id, delivery: delivery.id, err: error }, 'could not record a webhook delivery');
    }).finally(() => {
      running.delete(task);
      this.wake();
    });
    running.add(task);
  }

  async #deliver(webhook: Webhook, delivery: WebhookDelivery): Promise<void> {
    const { store, clock, logger, metrics } = this.#deps;
    const change = await store.feed.change(delivery.seq);
    const outcome = change
      ? await postDelivery(webhook, delivery, change, clock, this.#abort.signal, this.#agent(webhook))
      : { ok: false as const, status: null, error: `change ${delivery.seq} is no longer in the feed` };
    // Stopping: the delivery stays pending (its lease ends) and is sent again after the restart.
    if (this.#abort.signal.aborted && !outcome.ok) return;
    const at = clock.now();
    const attempts = delivery.attempts + 1;
    const next = outcome.ok ? 'delivered' as const : nextDeliveryAttempt(webhook, attempts, at, (this.#deps.random ?? Math.random)());
    await store.feed.recordAttempt(delivery.id, { at, status: outcome.status, error: outcome.ok ? null : outcome.error, next });
    metrics.delivered(webhook.id, next === 'delivered' ? 'delivered' : next === 'dead' ? 'dead' : 'retry');
    if (!outcome.ok) {
      const fields = { webhook: webhook.id, delivery: delivery.id, seq: delivery.seq, attempts, status: outcome.status, error: outcome.error };
      if (next === 'dead') logger.error(fields, 'webhook delivery dead-lettered: its retry budget is spent (replay it with POST /api/webhooks/deliveries/ID/replay)');
      else logger.warn({ ...fields, retryAt: new Date(next === 'delivered' ? at : next.retryAt).toISOString() }, 'webhook delivery failed; will retry');
    }
  }

  #running(webhookId: string): Set<Promise<void>> {
    let set = this.#inFlight.get(webhookId);
    if (!set) this.#inFlight.set(webhookId, (set = new Set()));
    return set;
  }

  #sleep(ms: number): void {
    clearTimeout(this.#timer);
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => this.wake(), Math.min(ms, MAX_SLEEP_MS));
    this.#timer.unref();
  }
}
