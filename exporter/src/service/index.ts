import { Registry } from 'prom-client';
import { TokenProvider } from '../auth/tokens.js';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError, loadConfigFile, type Config } from '../config/index.js';
import type { DirectionDeps } from '../directions/contract.js';
import { createDirections } from '../directions/registry.js';
import { createTurn } from '../directions/turn.js';
import { createApi } from '../http/api.js';
import { createApp } from '../http/app.js';
import { DEFAULT_FAILURE_LIMITS, FailedAuthLimiter } from '../http/auth-failures.js';
import { BasicAuthVerifier } from '../http/basic-auth.js';
import type { WebConfig } from '../http/web-config.js';
import { webGate } from '../http/web-gate.js';
import { createStatusPages } from '../http/status.js';
import type { Logger } from '../log.js';
import { ActItemOperations } from '../mailboxes/act-items.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { EmailRecords, FailureRecords, recordRoutes } from '../records/index.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { createMetrics, readFleet, type Metrics } from '../metrics/index.js';
import { startFeed, type Feed } from '../feed/service.js';
import { systemTimers, type Timers } from '../scheduler/scheduler.js';
import type { Store } from '../store/index.js';
import type { TestQueue } from '../test-enable/queue.js';
import { approveFromConfig } from './approvals.js';
import { CurrentConfig } from './current.js';
import type { Definitions } from './definitions.js';
import { listen } from './listen.js';
import { startLoadGuard } from './load-guard.js';
import { restartOnlyChanges } from './reload.js';
import { StartupError } from './errors.js';
import { createServiceLeases } from './leases.js';
import { DirectionSchedulers } from './schedulers.js';
import { startDefinitions } from './definitions.js';
import { openRunnerStore } from './store.js';
import { createTests } from './tests.js';
import { CurrentWeb } from './web.js';

export interface ServiceDeps {
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  registry?: Registry;
  /** Reads the config file again on reload (tests pass their own loader). */
  loadConfig?: (file: string) => Config;
  /** The environment the config's `{ env }` secrets were read from (tests load theirs with their own). */
  env?: NodeJS.ProcessEnv;
  /** --log-level: wins over the file's log.level, also after a reload. */
  logLevelOverride?: string;
  /** --web.config.file and what it held at start (TLS, basic auth, headers); re-read on reload. */
  webConfigFile?: string;
  web?: WebConfig;
}

export type ReloadResult = { ok: true } | { ok: false; error: string };

export interface Service {
  /** Base URL of the HTTP listener, e.g. http://127.0.0.1:9782 */
  url: string;
  /** Re-reads the config file (SIGHUP, POST /-/reload); a bad file is reported and not applied. */
  reload(): Promise<ReloadResult>;
  /** Resolves when no Test & Enable is queued or running (for tests and `mailsync` tooling). */
  testsIdle(): Promise<void>;
  /** Graceful stop: no new cycles, running ones stop between batches, then everything closes. */
  stop(): Promise<void>;
}

/** Wires store, directions, schedulers, Test & Enable, metrics and HTTP for `mailsync run`. */
export async function startService(fileConfig: Config, deps: ServiceDeps): Promise<Service> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const store = await openRunnerStore(fileConfig, clock, logger);
  // C: the file's profiles and mailboxes go into the store; the running config adds the API's.
  const definitions = startDefinitions({ store, clock, timers: deps.timers ?? systemTimers, logger, apply: (next) => reload.apply(next), rejected: () => metrics.configLoaded(false, clock.now()), env: deps.env });
  const initial = await definitions.withFile(fileConfig, () => store.close());
  // Before any scheduler exists: a mailbox approved in the file is never disabled (and paged) for want of it.
  await approveFromConfig(store, initial, clock.now(), logger);

  const current = new CurrentConfig(initial, clock);
  // One token cache for every direction and protocol: a login's token is shared, not fetched per mailbox.
  const tokens = new TokenProvider({ store, clock, logger, encryptionKey: () => current.config.store.encryptionKey });
  const directionDeps: DirectionDeps = {
    store, clock, logger, autodiscover: () => current.autodiscover, tokens,
    // G: IMAP IDLE's new mail runs the mailbox's cycle now (called only once the schedulers exist).
    wake: (id, direction) => schedulers.wake(id, direction),
  };
  const directions = createDirections(directionDeps, (p) => current.profile(p)?.maxConnections ?? 1);
  const guard = startLoadGuard(() => current.config.sync.maxEventLoopDelayMs);
  // B: this runner syncs only the mailbox directions it holds the lease of (docs/scaling.md).
  const leases = createServiceLeases({
    store, initial, current, clock, timers: deps.timers, logger,
    busy: (k) => schedulers.isRunning(k), settled: (keys) => schedulers.settled(keys), renewalsFailed: (n) => metrics.leaseRenewalsFailed(n), testRequested: (id) => tests.push(id),
  });
  const schedulers = new DirectionSchedulers(
    [...directions.values()].map((runner) => ({ runner, turn: createTurn(runner, () => current.config, directionDeps) })),
    { current, clock, timers: deps.timers, logger, overloaded: guard.overloaded, leases: leases.keeper, onFenced: (f) => metrics.fenced(f.direction) },
  );
  const metrics = createMetrics(deps.registry ?? new Registry(), {
    inFlight: () => schedulers.inFlight,
    queueDepth: () => schedulers.queueDepth,
    mailboxes: () => current.mailboxCount,
    retryBudget: () => current.config.organization.retry.maxTransientRetries,
    fleet: (budget) => readFleet(store, current.config, clock.now(), budget),
    onFleetError: (error) => logger.error({ err: error }, 'could not read the store for /metrics'),
    webhooks: { webhooks: () => current.config.webhooks.map((w) => w.id), outbox: () => store.feed.outboxStats(), now: () => clock.now() },
    leases: leases.metrics,
  });
  schedulers.onOutcome((outcome, profile, retry) => metrics.observeCycle(outcome, profile, retry));
  // C: an email queued through another runner's API: sent by this one at once if it holds the mailbox.
  store.onOutgoingQueued((id) => schedulers.wake(id, 'outgoing'));
  metrics.configLoaded(true, clock.now());
  leases.keeper.onChange((change) => schedulers.leasesChanged(change));
  await leases.keeper.start();
  schedulers.setJobs(initial);
  const feed = await startFeed({ store, clock, logger, metrics: metrics.webhooks, config: () => current.config });

  const tests = createTests({ current, directions, directionDeps, schedulers, logger, leadFence: leases.leadFence, counts: { storeFault: () => metrics.storeFault(), fenced: (d) => metrics.fenced(d) } });

  const web = new CurrentWeb(deps.webConfigFile, deps.web);
  const reload = createReload(current, { ...deps, clock, metrics, directions, schedulers, store, currentWeb: web, feed, definitions, keeper: leases.keeper });
  let stopping = false;
  // One budget of failed authentications per client address, for basic auth and API tokens alike.
  const failures = new FailedAuthLimiter(DEFAULT_FAILURE_LIMITS, clock);
  const http = createHttp({ current, store, clock, logger, schedulers, directions, tests, metrics, reload, failures, feed, definitions, stopping: () => stopping, storeUnreachable: () => leases.keeper.storeUnreachable });
  const gated = webGate(http, { web: () => web.config, verifier: new BasicAuthVerifier(), failures, logger });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(gated, initial.server.listen, { ...(deps.web?.tls ? { tls: deps.web.tls } : {}) });
  } catch (error) {
    await Promise.all([schedulers.stop(), tests.stop(), feed.stop()]);
    await leases.keeper.stop();
    guard.stop();
    await store.close();
    throw new StartupError((error as Error).message, { cause: error });
  }
  const { url } = listening;
  web.attach(listening);
  schedulers.start();
  definitions.start();
  await leases.pushHeldTests();
  logger.info({ url, mailboxes: current.mailboxCount, store: initial.store.path, runner: leases.runner }, 'mailsync started');

  return {
    url,
    reload: () => reload(),
    testsIdle: () => tests.idle(),
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info({ inFlight: schedulers.inFlight }, 'stopping: waiting for running cycles to reach a safe point');
      // The feed first: long-polls answer now, deliveries in flight are aborted and stay pending.
      definitions.stop();
      await Promise.all([schedulers.stop(), tests.stop(), feed.stop()]);
      // B: after the cycles ended, so no write of theirs races the next holder; others take over at once.
      await leases.keeper.stop();
      guard.stop();
      await Promise.all([...directions.values()].map((d) => d.close()));
      await listening.close();
      await store.close();
      logger.info('mailsync stopped');
    },
  };
}

type Directions = ReturnType<typeof createDirections>;

interface HttpParts {
  current: CurrentConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  schedulers: DirectionSchedulers;
  directions: Directions;
  tests: TestQueue;
  metrics: Metrics;
  reload: () => Promise<ReloadResult>;
  failures: FailedAuthLimiter;
  feed: Feed;
  definitions: Definitions;
  stopping: () => boolean;
  storeUnreachable: () => boolean;
}

function createHttp({ current, store, clock, logger, schedulers, directions, tests, metrics, reload, failures, feed, definitions, stopping, storeUnreachable }: HttpParts) {
  const operations = new MailboxOperations({
    config: () => current.config,
    store,
    clock,
    wake: (id) => schedulers.wake(id),
    startTest: (id) => tests.push(id),
    disconnect: (id) => { for (const d of directions.values()) d.release(id); },
  });
  const emails = new EmailOperations({ config: () => current.config, store, clock, wakeOutgoing: (id) => schedulers.wake(id, 'outgoing') });
  const itemFailures = new FailureRecords(store, () => current.config);
  const records = recordRoutes({ emails: new EmailRecords({ store, config: () => current.config }), failures: itemFailures });
  const act = new ActItemOperations({ config: () => current.config, store, clock, wakeAct: (id) => schedulers.wake(id, 'act') });
  const initial = current.config;
  return createApp({
    metrics: { contentType: (format) => metrics.contentType(format), scrape: (format) => metrics.exposition(format) },
    // G: a runner whose store does not answer syncs nothing and serves no API answer worth having.
    notReadyReason: () => (stopping() ? 'shutting down' : storeUnreachable() ? 'the store does not answer (lease renewal failed)' : undefined),
    reload,
    onError: (error) => logger.error({ err: error }, 'HTTP request failed inside mailsync'),
    api: createApi({ operations, emails, act, tokens: () => current.config.api.tokens, maxEmailBytes: () => current.config.sync.outgoing.maxEmailBytes, failures, logger, records, feed: feed.routes, definitions: definitions.api(store, clock) }),
    ...(initial.server.statusPage ? { status: createStatusPages({ config: () => current.config, store, clock, operations, itemFailures }) } : {}),
  });
}

interface ReloadDeps extends ServiceDeps {
  clock: Clock;
  metrics: Metrics;
  directions: Directions;
  schedulers: DirectionSchedulers;
  store: Store;
  currentWeb: CurrentWeb;
  feed: Feed;
  definitions: Definitions;
  keeper: { refresh(): Promise<void> };
}

/** SIGHUP and POST /-/reload: a file with problems is reported and never applied. */
function createReload(current: CurrentConfig, deps: ReloadDeps): (() => Promise<ReloadResult>) & { apply: (next: Config) => Promise<void> } {
  const { logger, clock, metrics } = deps;
  const loadConfig = deps.loadConfig ?? loadConfigFile;
  const reload = async () => {
    let next: Config;
    let nextWeb: WebConfig | undefined;
    try {
      const fileConfig = loadConfig(current.config.file);
      // Both files or neither: a bad web config keeps the running config too.
      nextWeb = deps.currentWeb.read();
      // C: the file alone first (its problems named by file position), then with the store's definitions.
      next = await deps.definitions.withFile(fileConfig);
    } catch (error) {
      metrics.configLoaded(false, clock.now());
      const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
      logger.error({ config: current.config.file, problems }, 'config reload rejected: keeping the running config');
      return { ok: false, error: problems.join('; ') };
    }
    const ignored = [...restartOnlyChanges(current.config, next), ...deps.currentWeb.apply(nextWeb)];
    await apply(next, 'config reloaded');
    if (ignored.length > 0) logger.warn({ settings: ignored }, 'config reloaded; these settings take effect only after a restart');
    return { ok: true } as const;
  };
  /** What a reload and a change of the store's definitions both carry out. */
  const apply = async (next: Config, done: string) => {
    current.replace(next);
    // Idle sessions may belong to a changed server or password: the next cycle logs in afresh.
    for (const d of deps.directions.values()) d.closeIdle();
    // Declared approvals first, so a mailbox added with its approval is never blocked by a cycle in between.
    const approved = await approveFromConfig(deps.store, next, clock.now(), logger).catch((error: unknown) => {
      logger.error({ err: error }, 'could not apply the approvals declared in the reloaded config');
      return [];
    });
    deps.schedulers.setJobs(next);
    // B: added mailboxes are claimed now, removed ones released, not at the next round. Not awaited:
    // against a hung database the round never ends, and the reload must still answer.
    deps.keeper.refresh().catch((error: unknown) => logger.error({ err: error }, 'could not claim the leases of the reloaded config'));
    await deps.feed.reloaded().catch((error: unknown) => logger.error({ err: error }, 'could not apply the reloaded webhooks'));
    // Re-enabled mailboxes need not wait for their next due time.
    for (const id of approved) deps.schedulers.wake(id);
    const level = deps.logLevelOverride ?? next.log.level;
    if (level !== logger.level) logger.level = level;
    metrics.configLoaded(true, clock.now());
    for (const w of next.warnings) logger.warn({ config: next.file }, w);
    logger.info({ mailboxes: current.mailboxCount, profiles: next.profiles.length }, done);
  };
  return Object.assign(reload, { apply: (next: Config) => apply(next, 'applied a change of the store\'s profiles and mailboxes') });
}
