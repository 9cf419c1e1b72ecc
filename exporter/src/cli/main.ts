import { TokenProvider } from '../auth/tokens.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfigFile, resolveConfigPath, type Config } from '../config/index.js';
import { loadWebConfig } from '../http/web-config.js';
import { createLogger, type Logger } from '../log.js';
import { createAutodiscover } from '../protocols/autodiscover.js';
import { createTurn } from '../directions/turn.js';
import { createIncoming } from '../incoming/index.js';
import { openStoreFor, StartupError } from '../service/errors.js';
import { startService } from '../service/index.js';
import { CHECK_CONFIG, COMMANDS, helpFor, MAIN_HELP, RUN, SYNC_ONCE } from './commands.js';
import { mailboxesCommand } from './mailboxes.js';
import { helpText, parseCommandLine } from './options.js';
import { sendCommand } from './send.js';
import { storeCommand } from './store.js';
import { UsageError } from './usage-error.js';
import { VERSION } from '../version.js';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') return print(MAIN_HELP);
  if (command === '--version' || command === 'version') return print(VERSION);
  if (command === 'help') return print(helpFor(rest[0]));
  try {
    switch (command) {
      case 'run': return await runCommand(rest);
      case 'check-config': return checkConfig(rest);
      case 'sync-once': return await syncOnce(rest);
      case 'mailboxes': return await mailboxesCommand(rest, consoleIo());
      case 'send': return await sendCommand(rest, consoleIo());
      case 'store': return await storeCommand(rest, consoleIo());
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`mailsync: ${error.message}\nRun 'mailsync ${COMMANDS[command] ? `${command} ` : ''}--help' for usage.`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof StartupError) {
      console.error(`mailsync: ${error.message}`);
      return 1;
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

function load(flag: string | undefined): Config {
  return loadConfigFile(resolveConfigPath(flag));
}

function checkConfig(args: string[]): number {
  const parsed = parseCommandLine(CHECK_CONFIG, args);
  if (parsed.help) return print(helpText(CHECK_CONFIG));
  const o = parsed.values;
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
  const parsed = parseCommandLine(SYNC_ONCE, args);
  if (parsed.help) return print(helpText(SYNC_ONCE));
  const o = parsed.values;
  const config = load(o.config);
  const mailbox = config.mailboxes.find((m) => m.id === o.mailbox);
  if (!mailbox) throw new UsageError(`sync-once: no mailbox "${o.mailbox}" in ${config.file}`);
  const profile = config.profiles.find((p) => p.id === mailbox.profile)!;
  // Logs go to stderr so that stdout carries only the JSON result.
  const logger = createLogger(o['log-level'] ?? config.log.level, process.stderr);
  const store = await openStoreFor(config.store);
  const autodiscover = createAutodiscover(config.autodiscover, systemClock);
  const tokens = new TokenProvider({ store, clock: systemClock, logger, encryptionKey: () => config.store.encryptionKey });
  const deps = { store, clock: systemClock, logger, autodiscover: () => autodiscover, tokens };
  const incoming = createIncoming(deps, () => profile.maxConnections);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await store.runs.abortUnfinishedRuns(systemClock.now());
    const { outcome, nextDueAt } = await createTurn(incoming, () => config, deps)(mailbox, profile, controller.signal);
    if (!outcome) {
      // The lifecycle gate said no: the same rule the service follows.
      const state = await store.runs.getDirectionState(mailbox.id, 'incoming');
      const reason = state?.disabled
        ? `incoming is disabled (${state.disabledCode ?? `by ${state.disabledBy ?? 'an operator'}`}); run Test & Enable after fixing the cause`
        : `waiting to retry after a transient failure until ${new Date(nextDueAt ?? 0).toISOString()}`;
      console.log(JSON.stringify({ mailbox: mailbox.id, direction: 'incoming', result: 'skipped', reason }, null, 2));
      return 1;
    }
    console.log(JSON.stringify(outcome, null, 2));
    return outcome.result === 'failure' ? 1 : 0;
  } finally {
    await incoming.close();
    await store.close();
  }
}

async function runCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(RUN, args);
  if (parsed.help) return print(helpText(RUN));
  const o = parsed.values;
  const config = load(o.config);
  const webFile = o['web.config.file'];
  const web = webFile === undefined ? undefined : loadWebConfig(webFile);
  const logger = createLogger(o['log-level'] ?? config.log.level);
  for (const w of config.warnings) logger.warn({ config: config.file }, w);
  const service = await startService(config, {
    logger,
    ...(o['log-level'] ? { logLevelOverride: o['log-level'] } : {}),
    ...(webFile !== undefined ? { webConfigFile: webFile, web } : {}),
  });
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
