import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/index.js';
import { createApi } from './http/api.js';
import { createApp } from './http/app.js';
import type { Logger } from './log.js';
import { MailboxOperations } from './mailboxes/operations.js';
import { createMetrics } from './metrics/index.js';
import { createAutodiscover } from './protocols/autodiscover.js';
import { pollIntervalMs, Scheduler, systemTimers, type Timers } from './scheduler/scheduler.js';
import { Store } from './store/index.js';
import { runScheduledIncoming } from './sync/runner.js';
import { SessionPool } from './sync/sessions.js';
import { runTestEnable } from './sync/test-enable.js';
import { TestQueue } from './sync/test-queue.js';

/** Test & Enable runs at most this many mailboxes at once: it is interactive, not bulk work. */
const TEST_ENABLE_CONCURRENCY = 4;

export interface ServiceDeps {
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  registry?: Registry;
}

export interface Service {
  /** Base URL of the HTTP listener, e.g. http://127.0.0.1:9782 */
  url: string;
  /** Resolves when no Test & Enable is queued or running (for tests and `mailsync` tooling). */
  testsIdle(): Promise<void>;
  /** Graceful stop: no new cycles, running ones stop between batches, then everything closes. */
  stop(): Promise<void>;
}

/** Wires store, sessions, scheduler, metrics and HTTP for `mailsync run`. */
export async function startService(config: Config, deps: ServiceDeps): Promise<Service> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const registry = deps.registry ?? new Registry();
  const store = new Store({ path: config.store.path });
  const aborted = store.abortUnfinishedRuns(clock.now());
  if (aborted > 0) logger.warn({ runs: aborted }, 'closed runs left open by an earlier stop as aborted');

  const profiles = new Map(config.profiles.map((p) => [p.id, p]));
  const mailboxes = new Map(config.mailboxes.map((m) => [m.id, m]));
  const sessions = new SessionPool((p) => profiles.get(p)?.maxConnections ?? 1);
  const autodiscover = createAutodiscover(config.autodiscover, clock);
  const cycleDeps = { store, clock, logger, sessions, autodiscover };

  // Event-loop delay over the last second: above the threshold the machine is behind, so the
  // scheduler starts nothing new until it catches up.
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let recentDelayMs = 0;
  const delayTimer = setInterval(() => {
    recentDelayMs = delay.max / 1e6;
    delay.reset();
  }, 1_000);
  delayTimer.unref();

  // The run callback reaches `metrics`, defined below; it only runs after start().
  const scheduler: Scheduler = new Scheduler({
    clock,
    timers: deps.timers ?? systemTimers,
    random: Math.random,
    maxConcurrent: config.sync.maxConcurrentCycles,
    groupLimit: (p) => profiles.get(p)?.maxConnections ?? 1,
    jitterRatio: config.sync.jitterRatio,
    overloaded: () => recentDelayMs > config.sync.maxEventLoopDelayMs,
    run: async (id, signal) => {
      const mailbox = mailboxes.get(id);
      const profile = mailbox && profiles.get(mailbox.profile);
      if (!mailbox || !profile) return undefined;
      const { outcome, ...next } = await runScheduledIncoming(mailbox, profile, config, cycleDeps, signal);
      if (outcome) metrics.observeCycle(outcome, profile.id);
      return next;
    },
    onError: (id, error) => logger.error({ mailbox: id, err: error }, 'sync cycle crashed'),
  });
  const metrics = createMetrics(registry, {
    inFlight: () => scheduler.inFlight,
    queueDepth: () => scheduler.queueDepth,
    mailboxes: () => mailboxes.size,
  });
  scheduler.setJobs(
    config.mailboxes
      .filter((m) => m.incoming)
      .map((m) => ({ id: m.id, group: m.profile, intervalMs: pollIntervalMs(config.sync.pollIntervalSeconds, profiles.get(m.profile)!.minPollIntervalSeconds) })),
  );

  const tests = new TestQueue(async (id) => {
    const mailbox = mailboxes.get(id);
    const profile = mailbox && profiles.get(mailbox.profile);
    if (!mailbox || !profile) return;
    try {
      await runTestEnable(mailbox, profile, config, { store, clock, logger, autodiscover });
    } catch (error) {
      logger.error({ mailbox: id, err: error }, 'Test & Enable crashed');
    }
    // Whatever the result, the scheduler looks again now: enabled directions start syncing.
    sessions.discard(id);
    scheduler.wake(id);
  }, TEST_ENABLE_CONCURRENCY);
  const operations = new MailboxOperations({
    config: () => config,
    store,
    clock,
    wake: (id) => scheduler.wake(id),
    startTest: (id) => tests.push(id),
    disconnect: (id) => sessions.discard(id),
  });

  let stopping = false;
  const app = createApp({
    registry,
    notReadyReason: () => (stopping ? 'shutting down' : undefined),
    api: createApi({ operations, tokens: () => config.api.tokens }),
  });
  const server = await listen(app, config.server.listen);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  scheduler.start();
  for (const id of store.lifecycle.pendingTests()) tests.push(id);
  logger.info({ url, mailboxes: mailboxes.size, store: config.store.path }, 'mailsync started');

  return {
    url,
    testsIdle: () => tests.idle(),
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info({ inFlight: scheduler.inFlight }, 'stopping: waiting for running cycles to reach a safe point');
      await Promise.all([scheduler.stop(), tests.stop()]);
      clearInterval(delayTimer);
      delay.disable();
      await sessions.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      store.close();
      logger.info('mailsync stopped');
    },
  };
}

function listen(app: ReturnType<typeof createApp>, address: string): Promise<Server> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host ?? '0.0.0.0');
    server.once('listening', () => resolve(server));
    server.once('error', (error) => reject(new Error(`cannot listen on ${address}: ${error.message}`)));
  });
}
