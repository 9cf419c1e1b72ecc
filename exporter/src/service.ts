import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, loadConfigFile, type Config, type Mailbox, type Profile } from './config/index.js';
import { createApi } from './http/api.js';
import { createApp } from './http/app.js';
import { createStatusPages } from './http/status.js';
import type { Logger } from './log.js';
import { EmailOperations } from './mailboxes/emails.js';
import { MailboxOperations } from './mailboxes/operations.js';
import { createMetrics, readFleet } from './metrics/index.js';
import { createAutodiscover, type Autodiscover } from './protocols/autodiscover.js';
import { SmtpTransports } from './protocols/smtp.js';
import { pollIntervalMs, Scheduler, systemTimers, type Job, type Timers } from './scheduler/scheduler.js';
import { Store } from './store/index.js';
import { runOutgoingCycle } from './sync/outgoing.js';
import { runScheduled, runScheduledIncoming } from './sync/runner.js';
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
  /** Reads the config file again on reload (tests pass their own loader). */
  loadConfig?: (file: string) => Config;
  /** --log-level: wins over the file's log.level, also after a reload. */
  logLevelOverride?: string;
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

/** What a config reload replaces, read by everything through `current`. */
interface Current {
  config: Config;
  profiles: Map<string, Profile>;
  mailboxes: Map<string, Mailbox>;
  autodiscover: Autodiscover;
}

/** Settings read once at start: a reload that changes them says a restart is needed. */
const RESTART_ONLY: [string, (c: Config) => unknown][] = [
  ['server.listen', (c) => c.server.listen],
  ['server.statusPage', (c) => c.server.statusPage],
  ['store.path', (c) => c.store.path],
  ['sync.maxConcurrentCycles', (c) => c.sync.maxConcurrentCycles],
  ['sync.jitterRatio', (c) => c.sync.jitterRatio],
];

/** Wires store, sessions, scheduler, metrics and HTTP for `mailsync run`. */
export async function startService(initial: Config, deps: ServiceDeps): Promise<Service> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const registry = deps.registry ?? new Registry();
  const loadConfig = deps.loadConfig ?? loadConfigFile;
  const store = new Store({ path: initial.store.path });
  const aborted = store.abortUnfinishedRuns(clock.now());
  if (aborted > 0) logger.warn({ runs: aborted }, 'closed runs left open by an earlier stop as aborted');

  const build = (config: Config): Current => ({
    config,
    profiles: new Map(config.profiles.map((p) => [p.id, p])),
    mailboxes: new Map(config.mailboxes.map((m) => [m.id, m])),
    autodiscover: createAutodiscover(config.autodiscover, clock),
  });
  let current = build(initial);
  const sessions = new SessionPool((p) => current.profiles.get(p)?.maxConnections ?? 1);
  const transports = new SmtpTransports();
  const cycleDeps = () => ({ store, clock, logger, sessions, autodiscover: current.autodiscover });

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

  type Turn = Awaited<ReturnType<typeof runScheduled>>;
  /**
   * One scheduler per direction, sharing the global limits; `turn` runs a mailbox's cycle. The
   * run callback reaches `metrics`, defined below; it only runs after start().
   */
  const schedulerFor = (direction: string, groupLimit: (profile: Profile) => number, turn: (mailbox: Mailbox, profile: Profile, signal: AbortSignal) => Promise<Turn>) =>
    new Scheduler({
      clock,
      timers: deps.timers ?? systemTimers,
      random: Math.random,
      maxConcurrent: initial.sync.maxConcurrentCycles,
      groupLimit: (p) => {
        const profile = current.profiles.get(p);
        return profile ? groupLimit(profile) : 1;
      },
      jitterRatio: initial.sync.jitterRatio,
      overloaded: () => recentDelayMs > current.config.sync.maxEventLoopDelayMs,
      run: async (id, signal) => {
        const mailbox = current.mailboxes.get(id);
        const profile = mailbox && current.profiles.get(mailbox.profile);
        if (!mailbox || !profile) return undefined;
        const { outcome, retry, ...next } = await turn(mailbox, profile, signal);
        if (outcome) metrics.observeCycle(outcome, profile.id, retry ?? false);
        return next;
      },
      onError: (id, error) => logger.error({ mailbox: id, err: error }, `${direction} cycle crashed`),
    });
  const scheduler = schedulerFor('incoming', (p) => p.maxConnections,
    (mailbox, profile, signal) => runScheduledIncoming(mailbox, profile, current.config, cycleDeps(), signal));
  // The Pending Send queue has its own schedule (a scan every sync.outgoing.scanIntervalSeconds,
  // and at once when an email is queued) and the profile's SMTP connection limit.
  const outgoingScheduler = schedulerFor('outgoing', (p) => p.outgoing?.maxConnections ?? 1, async (mailbox, profile, signal) => {
    const result = await runScheduled({
      direction: 'outgoing', mailbox, profile, organization: current.config.organization, store, clock, logger,
      disconnect: () => undefined,
      cycle: () => runOutgoingCycle(mailbox, profile, current.config, { ...cycleDeps(), transports }, signal),
    });
    // A postponed email brings the scan forward, never later than the regular scan.
    const scanAt = clock.now() + current.config.sync.outgoing.scanIntervalSeconds * 1_000;
    return typeof result.nextDueAt === 'number' && result.outcome?.result === 'success' ? { ...result, nextDueAt: Math.min(result.nextDueAt, scanAt) } : result;
  });
  const metrics = createMetrics(registry, {
    inFlight: () => scheduler.inFlight + outgoingScheduler.inFlight,
    queueDepth: () => scheduler.queueDepth + outgoingScheduler.queueDepth,
    mailboxes: () => current.mailboxes.size,
    fleet: () => readFleet(store, current.config, clock.now()),
    onFleetError: (error) => logger.error({ err: error }, 'could not read the store for /metrics'),
  });
  metrics.configLoaded(true, clock.now());
  const jobs = (config: Config): Job[] => config.mailboxes
    .filter((m) => m.incoming)
    .map((m) => ({ id: m.id, group: m.profile, intervalMs: pollIntervalMs(config.sync.pollIntervalSeconds, current.profiles.get(m.profile)!.minPollIntervalSeconds) }));
  scheduler.setJobs(jobs(initial));
  const outgoingJobs = (config: Config): Job[] => config.mailboxes
    .filter((m) => m.outgoing)
    .map((m) => ({ id: m.id, group: m.profile, intervalMs: config.sync.outgoing.scanIntervalSeconds * 1_000 }));
  outgoingScheduler.setJobs(outgoingJobs(initial));

  const tests = new TestQueue(async (id, signal) => {
    const mailbox = current.mailboxes.get(id);
    const profile = mailbox && current.profiles.get(mailbox.profile);
    if (!mailbox || !profile) return;
    try {
      await runTestEnable(mailbox, profile, current.config, { store, clock, logger, autodiscover: current.autodiscover, signal });
    } catch (error) {
      logger.error({ mailbox: id, err: error }, 'Test & Enable crashed');
    }
    // Whatever the result, the schedulers look again now: enabled directions start syncing.
    sessions.discard(id);
    scheduler.wake(id);
    outgoingScheduler.wake(id);
  }, TEST_ENABLE_CONCURRENCY);
  const operations = new MailboxOperations({
    config: () => current.config,
    store,
    clock,
    wake: (id) => {
      scheduler.wake(id);
      outgoingScheduler.wake(id);
    },
    startTest: (id) => tests.push(id),
    disconnect: (id) => sessions.discard(id),
  });
  const emails = new EmailOperations({ config: () => current.config, store, clock, wakeOutgoing: (id) => outgoingScheduler.wake(id) });

  const reload = async (): Promise<ReloadResult> => {
    let next: Config;
    try {
      next = loadConfig(current.config.file);
    } catch (error) {
      metrics.configLoaded(false, clock.now());
      const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
      logger.error({ config: current.config.file, problems }, 'config reload rejected: keeping the running config');
      return { ok: false, error: problems.join('; ') };
    }
    const ignored = RESTART_ONLY.filter(([, get]) => JSON.stringify(get(next)) !== JSON.stringify(get(current.config))).map(([k]) => k);
    current = build(next);
    // Idle sessions may belong to a changed server or password: the next cycle logs in afresh.
    sessions.closeIdle();
    transports.closeAll();
    scheduler.setJobs(jobs(next));
    outgoingScheduler.setJobs(outgoingJobs(next));
    const level = deps.logLevelOverride ?? next.log.level;
    if (level !== logger.level) logger.level = level;
    metrics.configLoaded(true, clock.now());
    for (const w of next.warnings) logger.warn({ config: next.file }, w);
    if (ignored.length > 0) logger.warn({ settings: ignored }, 'config reloaded; these settings take effect only after a restart');
    logger.info({ mailboxes: current.mailboxes.size, profiles: current.profiles.size }, 'config reloaded');
    return { ok: true };
  };

  let stopping = false;
  const app = createApp({
    metrics,
    notReadyReason: () => (stopping ? 'shutting down' : undefined),
    reload,
    api: createApi({ operations, emails, tokens: () => current.config.api.tokens, maxEmailBytes: () => current.config.sync.outgoing.maxEmailBytes }),
    ...(initial.server.statusPage ? { status: createStatusPages({ config: () => current.config, store, clock, operations }) } : {}),
  });
  const server = await listen(app, initial.server.listen);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  scheduler.start();
  outgoingScheduler.start();
  for (const id of store.lifecycle.pendingTests()) tests.push(id);
  logger.info({ url, mailboxes: current.mailboxes.size, store: initial.store.path }, 'mailsync started');

  return {
    url,
    reload,
    testsIdle: () => tests.idle(),
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info({ inFlight: scheduler.inFlight }, 'stopping: waiting for running cycles to reach a safe point');
      await Promise.all([scheduler.stop(), outgoingScheduler.stop(), tests.stop()]);
      transports.closeAll();
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
