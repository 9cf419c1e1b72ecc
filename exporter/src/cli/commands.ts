import { VERSION } from '../version.js';
import { MAILBOXES } from './mailboxes.js';
import { defineCommand, helpText, type CommandSpec, type OptionTable } from './options.js';
import { SEND } from './send.js';
import { STORE } from './store.js';

export const MAIN_HELP = `mailsync ${VERSION}: server-side mailbox synchronization with Prometheus metrics

Usage: mailsync <command> [options]

Commands:
  run            run the sync service (scheduler, /metrics, health endpoints)
  check-config   validate a config file and list every problem
  sync-once      run one incoming cycle for one mailbox and print the result as JSON
  mailboxes      list, show, approve, reject, Test & Enable or disable mailboxes (admin API)
  send           queue an email from a mailbox (Pending Send), or show a queued one (admin API)
  store check    check the store: the database's integrity and every email's raw bytes
  help [command] show help for a command

run, check-config, sync-once and store take --config FILE (or the MAILSYNC_CONFIG environment variable);
mailboxes and send talk to a running service (--url, MAILSYNC_TOKEN); before the first run,
'mailboxes approve --config FILE' approves in the store directly.
Run 'mailsync <command> --help' for its options. See docs/configuration.md for the file format.`;

/** The options of the commands that read the config file. */
const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file', default: '$MAILSYNC_CONFIG' },
  'log-level': { type: 'string', value: 'LEVEL', description: 'override log.level (fatal, error, warn, info, debug, trace)' },
} as const satisfies OptionTable;

export const RUN = defineCommand({
  name: 'run',
  usage: 'mailsync run --config FILE [--log-level LEVEL] [--web.config.file FILE]',
  about: `Runs the service: each mailbox enabled for incoming mail is synced every poll interval; HTTP
serves /metrics, /-/healthy, /-/ready, the admin API (/api) and the status page (/) on
server.listen. SIGHUP or POST /-/reload re-read the config file; a file with problems is not
applied (mailsync_config_last_reload_successful says so). SIGTERM or SIGINT stop it gracefully:
no new cycles start, running ones stop between two batches, the store is closed. A second signal
exits at once (everything committed stays committed). Exit status: 0 stopped cleanly, 1 it could
not start (the store or the listen address, named on one line) or failed while stopping, 2 bad
usage or an invalid config (the same problems check-config lists, for which check-config exits 1).`,
  options: {
    ...CONFIG_OPTIONS,
    // Prometheus' flag name and file format (exporter-toolkit), so one file serves both.
    'web.config.file': { type: 'string', value: 'FILE', description: 'TLS, basic auth and response headers, in exporter-toolkit\'s web config format; checked like the config (exit 2), re-read on reload (docs/configuration.md, "Securing the endpoints")' },
  },
});

export const CHECK_CONFIG = defineCommand({
  name: 'check-config',
  usage: 'mailsync check-config --config FILE',
  about: `Loads the config exactly as 'run' would (secrets included) and reports every problem with its
key path. Exit status: 0 valid, 1 invalid, 2 bad usage (a check answers "invalid" with 1, as
promtool does; 'run' refuses the same file with 2). Warnings (inline secrets, plaintext servers)
are printed but do not fail the check.`,
  options: {
    config: CONFIG_OPTIONS.config,
    // Accepted since the first version, so that run's command line can be checked as it is.
    'log-level': { ...CONFIG_OPTIONS['log-level'], description: "accepted as for 'run'; check-config writes no log" },
  },
});

export const SYNC_ONCE = defineCommand({
  name: 'sync-once',
  usage: 'mailsync sync-once --config FILE --mailbox ID',
  about: `Runs one incoming cycle for one mailbox against its server and store, then prints the outcome as
JSON on stdout. The lifecycle rules apply as in 'run': a disabled or unapproved mailbox is not
contacted, and a failure counts against the retry budget. Safe to run beside a stopped service; do not run it beside a running one for the
same mailbox. Exit status: 0 the cycle succeeded, 1 it failed (the JSON says why), 2 bad usage or config.`,
  options: {
    config: CONFIG_OPTIONS.config,
    mailbox: { type: 'string', short: 'm', value: 'ID', required: true, description: 'the mailbox id from the config' },
    'log-level': CONFIG_OPTIONS['log-level'],
  },
});

/** Every command with options, by the name typed after `mailsync`. */
export const COMMANDS: Record<string, CommandSpec> = Object.fromEntries(
  [RUN, CHECK_CONFIG, SYNC_ONCE, MAILBOXES, SEND, STORE].map((spec) => [spec.name, spec]),
);

/** `mailsync help [command]`: the command's help, else the overview. */
export function helpFor(command: string | undefined): string {
  const spec = command === undefined ? undefined : COMMANDS[command];
  return spec ? helpText(spec) : MAIN_HELP;
}
