import { loadConfigFile, resolveConfigPath } from '../config/index.js';
import { openStoreFor, storeName } from '../service/errors.js';
import { defineCommand, helpText, parseCommandLine } from './options.js';
import { UsageError } from './usage-error.js';

export const STORE = defineCommand({
  name: 'store',
  usage: 'mailsync store check --config FILE',
  about: `check: runs the database's own consistency check (SQLite's PRAGMA integrity_check), then reads
every stored email's raw bytes, inline or in a pack file (store.packDir), and compares their
SHA-256 with the one its row was stored under: every range a row points at must exist and hold
those bytes. Prints each problem on one line, then a summary with the bytes no email points at
(what a crash between a pack write and its commit leaves; the runner removes them when it
starts). Progress goes to stderr. Reads only; safe beside a running service, also while one starts
(an email whose bytes its compaction moved is checked where it points now). With store.driver postgresql the
bytes are in the rows (no packs): every email's SHA-256 is checked; the database's own checks
(amcheck, pg_amcheck) are its operator's.`,
  after: 'Exit status: 0 no problem found, 1 problems found, 2 bad usage or config.',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'config file (its store section: path and packDir, or driver postgresql and its url)', default: '$MAILSYNC_CONFIG' },
  },
  positionals: true,
});

export interface StoreIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function storeCommand(args: string[], io: StoreIo): Promise<number> {
  const parsed = parseCommandLine(STORE, args);
  if (parsed.help) {
    io.out(helpText(STORE));
    return 0;
  }
  const [action, ...extra] = parsed.positionals;
  if (action !== 'check' || extra.length > 0) throw new UsageError(`store: expected "check", got ${action === undefined ? 'nothing' : `"${[action, ...extra].join(' ')}"`}`);
  const config = loadConfigFile(resolveConfigPath(parsed.values.config, io.env), { env: io.env });
  const store = await openStoreFor(config.store);
  try {
    let shown = -1;
    const report = await store.check((done, total) => {
      // About every tenth of the way, so a large store shows it is moving without flooding stderr.
      const tenth = total === 0 ? 10 : Math.floor((done * 10) / total);
      if (tenth === shown) return;
      shown = tenth;
      io.err(`checked ${done} of ${total} emails`);
    });
    for (const line of report.integrity) io.out(`database: ${line}`);
    for (const line of report.problems) io.out(line);
    const problems = report.integrity.length + report.problems.length;
    io.out(`${storeName(config.store)}: database ${report.integrity.length === 0 ? 'ok' : `${report.integrity.length} problems`}; `
      + `${report.emails} emails checked (${report.inPacks} in packs), ${report.problems.length} with problems; `
      + `${report.unreferencedBytes} bytes in packs no email points at`);
    return problems === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}
