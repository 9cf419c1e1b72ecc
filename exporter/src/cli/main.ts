import { parseArgs } from 'node:util';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfigFile, resolveConfigPath, type Config } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';
import { createAutodiscover } from '../protocols/autodiscover.js';
import { startService } from '../service.js';
import { Store } from '../store/index.js';
import { runScheduledIncoming } from '../sync/runner.js';
import { mailboxesCommand, MAILBOXES_HELP } from './mailboxes.js';
import { sendCommand, SEND_HELP } from './send.js';
import { UsageError } from './usage-error.js';
import { SessionPool } from '../sync/sessions.js';
import { VERSION } from '../version.js';

const HELP: Record<string, string> = {
  main: `mailsync ${VERSION}: server-side mailbox synchronization with Prometheus metrics

Usage: mailsync <command> [options]

Commands:
  run            run the sync service (scheduler, /metrics, health endpoints)
  check-config   validate a config file and list every problem
  sync-once      run one incoming cycle for one mailbox and print the result as JSON
  mailboxes      list, show, approve, reject, Test & Enable or disable mailboxes (admin API)
  send           queue an email from a mailbox (Pending Send), or show a queued one (admin API)
  help [command] show help for a command

run, check-config and sync-once take --config FILE (or the MAILSYNC_CONFIG environment variable);
mailboxes and send talk to a running service (--url, MAILSYNC_TOKEN).
Run 'mailsync <command> --help' for its options. See docs/configuration.md for the file format.`,
  run: `Usage: mailsync run --config FILE [--log-level LEVEL]

Runs the service: each mailbox enabled for incoming mail is synced every poll interval; HTTP
serves /metrics, /-/healthy, /-/ready, the admin API (/api) and the status page (/) on
server.listen. SIGHUP or POST /-/reload re-read the config file; a file with problems is not
applied (mailsync_config_last_reload_successful says so). SIGTERM or SIGINT stop it gracefully:
no new cycles start, running ones stop between two batches, the store is closed. A second signal
exits at once (everything committed stays committed).

Options:
  -c, --config FILE     config file (default: $MAILSYNC_CONFIG)
      --log-level LEVEL override log.level (fatal, error, warn, info, debug, trace)
  -h, --help            show this help`,
  'check-config': `Usage: mailsync check-config --config FILE

Loads the config exactly as 'run' would (secrets included) and reports every problem with its
key path. Exit status: 0 valid, 1 invalid. Warnings (inline secrets, plaintext servers) are printed
but do not fail the check.

Options:
  -c, --config FILE  config file (default: $MAILSYNC_CONFIG)
  -h, --help         show this help`,
  mailboxes: MAILBOXES_HELP,
  send: SEND_HELP,
  'sync-once': `Usage: mailsync sync-once --config FILE --mailbox ID

Runs one incoming cycle for one mailbox against its server and store, then prints the outcome as
JSON on stdout. The lifecycle rules apply as in 'run': a disabled or unapproved mailbox is not
contacted, and a failure counts against the retry budget. Safe to run beside a stopped service; do not run it beside a running one for the
same mailbox. Exit status: 0 the cycle succeeded, 1 it failed (the JSON says why), 2 bad usage or config.

Options:
  -c, --config FILE  config file (default: $MAILSYNC_CONFIG)
  -m, --mailbox ID   the mailbox id from the config
      --log-level L  override log.level
  -h, --help         show this help`,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') return print(HELP.main);
  if (command === '--version' || command === 'version') return print(VERSION);
  if (command === 'help') return print(HELP[rest[0] ?? 'main'] ?? HELP.main);
  try {
    switch (command) {
      case 'run': return await runCommand(rest);
      case 'check-config': return checkConfig(rest);
      case 'sync-once': return await syncOnce(rest);
      case 'mailboxes': return await mailboxesCommand(rest, consoleIo());
      case 'send': return await sendCommand(rest, consoleIo());
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`mailsync: ${error.message}\nRun 'mailsync ${HELP[command] ? `${command} ` : ''}--help' for usage.`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

function consoleIo() {
  return { env: process.env, out: (l: string) => console.log(l), err: (l: string) => console.error(l) };
}

function print(text: string | undefined): number {
  console.log(text);
  return 0;
}

function options(command: string, args: string[], extra: Record<string, { type: 'string'; short?: string }> = {}) {
  try {
    return parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, 'log-level': { type: 'string' }, ...extra },
      allowPositionals: false,
      strict: true,
    }).values as { config?: string; help?: boolean; 'log-level'?: string; [k: string]: string | boolean | undefined };
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

function load(flag: string | undefined): Config {
  return loadConfigFile(resolveConfigPath(flag));
}

function checkConfig(args: string[]): number {
  const o = options('check-config', args);
  if (o.help) return print(HELP['check-config']);
  let file: string;
  try {
    file = resolveConfigPath(o.config);
    const config = loadConfigFile(file);
    for (const w of config.warnings) console.log(`warning: ${w}`);
    console.log(`${file}: valid (${config.profiles.length} profiles, ${config.mailboxes.length} mailboxes)`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 1;
  }
}

async function syncOnce(args: string[]): Promise<number> {
  const o = options('sync-once', args, { mailbox: { type: 'string', short: 'm' } });
  if (o.help) return print(HELP['sync-once']);
  if (typeof o.mailbox !== 'string') throw new UsageError('sync-once: --mailbox ID is required');
  const config = load(o.config);
  const mailbox = config.mailboxes.find((m) => m.id === o.mailbox);
  if (!mailbox) throw new UsageError(`sync-once: no mailbox "${o.mailbox}" in ${config.file}`);
  const profile = config.profiles.find((p) => p.id === mailbox.profile)!;
  // Logs go to stderr so that stdout carries only the JSON result.
  const logger = createLogger(o['log-level'] ?? config.log.level, process.stderr);
  const store = new Store({ path: config.store.path });
  const sessions = new SessionPool(() => profile.maxConnections);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    store.abortUnfinishedRuns(systemClock.now());
    const autodiscover = createAutodiscover(config.autodiscover, systemClock);
    const { outcome, nextDueAt } = await runScheduledIncoming(mailbox, profile, config, { store, clock: systemClock, logger, sessions, autodiscover }, controller.signal);
    if (!outcome) {
      // The lifecycle gate said no: the same rule the service follows.
      const state = store.getDirectionState(mailbox.id, 'incoming');
      const reason = state?.disabled
        ? `incoming is disabled (${state.disabledCode ?? `by ${state.disabledBy ?? 'an operator'}`}); run Test & Enable after fixing the cause`
        : `waiting to retry after a transient failure until ${new Date(nextDueAt ?? 0).toISOString()}`;
      console.log(JSON.stringify({ mailbox: mailbox.id, direction: 'incoming', result: 'skipped', reason }, null, 2));
      return 1;
    }
    console.log(JSON.stringify(outcome, null, 2));
    return outcome.result === 'failure' ? 1 : 0;
  } finally {
    await sessions.closeAll();
    store.close();
  }
}

async function runCommand(args: string[]): Promise<number> {
  const o = options('run', args);
  if (o.help) return print(HELP.run);
  const config = load(o.config);
  const logger = createLogger(o['log-level'] ?? config.log.level);
  for (const w of config.warnings) logger.warn({ config: config.file }, w);
  const service = await startService(config, { logger, ...(o['log-level'] ? { logLevelOverride: o['log-level'] } : {}) });
  // SIGHUP re-reads the config, as Prometheus does; the outcome is logged and exported.
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config');
    void service.reload();
  });
  return waitForStop(service.stop, logger);
}

function waitForStop(stop: () => Promise<void>, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      logger.info({ signal }, 'signal received');
      stop().then(() => resolve(0), (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        resolve(1);
      });
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  });
}
