#!/usr/bin/env node
// The set-up that `npm test`, `npm run test:unit`, `npm run test:integration` and `npm run demo`
// do before their real work, so that each works on a fresh Debian machine with only Node.js 20:
// the Debian packages the purpose needs (installed when run as root, else the exact apt-get
// command is printed and it stops), then `npm ci` when node_modules does not match
// package-lock.json. Plain Node with no dependencies, because it runs before `npm ci`, and
// `npm ci` replaces node_modules while it runs.
//
//   node scripts/setup.mjs <test|unit|demo>
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every Debian package the project uses, the commands that show it is installed, and which
 * purposes need it. `test` is everything .ci/run runs (the suite, the demo check, the compose
 * file check and the benchmarks); `unit` needs no system package at all.
 */
export const DEBIAN_PACKAGES = [
  // The real IMAP server of the integration tests and of the demo's mailboxes.
  { name: 'dovecot-imapd', commands: ['dovecot', 'doveadm'], purposes: ['test', 'demo'] },
  // Certificates for the TLS servers the tests and the demo start.
  { name: 'openssl', commands: ['openssl'], purposes: ['test', 'demo'] },
  // The DNS server behind autodiscover and the "server location unknown" mailboxes.
  { name: 'dnsmasq-base', commands: ['dnsmasq'], purposes: ['test', 'demo'] },
  // Prometheus scrapes the runner and evaluates the rules; promtool checks metrics and rules.
  { name: 'prometheus', commands: ['prometheus', 'promtool'], purposes: ['test', 'demo'] },
  // Alertmanager routes the alerts; amtool tests the routing.
  { name: 'prometheus-alertmanager', commands: ['prometheus-alertmanager', 'amtool'], purposes: ['test', 'demo'] },
  // mbsync, the ingest benchmark's reference.
  { name: 'isync', commands: ['mbsync'], purposes: ['test'] },
  // The headless browser of the panel's tests.
  { name: 'chromium', commands: ['chromium'], purposes: ['test'] },
  // Validates docker-compose.yml (there is no Docker engine to run it).
  { name: 'docker-compose', commands: ['docker-compose'], purposes: ['test'] },
  // jsonnet and jsonnetfmt render and check the monitoring mixin (mixin/).
  { name: 'jsonnet', commands: ['jsonnet', 'jsonnetfmt'], purposes: ['test'] },
  // POP3 incoming: Dovecot's POP3 server, and the POP3 benchmark's references.
  { name: 'dovecot-pop3d', commands: ['/usr/lib/dovecot/pop3'], purposes: ['test', 'demo'] },
  // LMTP: bench:latency delivers through it as an MTA does (no process per message).
  { name: 'dovecot-lmtpd', commands: ['/usr/lib/dovecot/lmtp'], purposes: ['test'] },
  { name: 'getmail6', commands: ['getmail'], purposes: ['test'] },
  { name: 'fetchmail', commands: ['fetchmail'], purposes: ['test'] },
  // The CalDAV/CardDAV server of the appointments, contacts and tasks direction (bcrypt for its
  // htpasswd file), and vdirsyncer, the ACT benchmark's reference.
  { name: 'radicale', commands: ['radicale'], purposes: ['test', 'demo'] },
  { name: 'python3-bcrypt', commands: ['/usr/lib/python3/dist-packages/bcrypt/__init__.py'], purposes: ['test', 'demo'] },
  { name: 'vdirsyncer', commands: ['vdirsyncer'], purposes: ['test'] },
  // The database of several runners sharing the work (store.driver: postgresql); the tests start
  // their own cluster with its initdb and pg_ctl.
  { name: 'postgresql', commands: ['/usr/lib/postgresql/15/bin/pg_ctl'], purposes: ['test'] },
  // The reference the web config test compares mailsync's answers with, request for request.
  { name: 'prometheus-node-exporter', commands: ['prometheus-node-exporter'], purposes: ['test'] },
];

export const PURPOSES = ['test', 'unit', 'demo'];

/** Failures the user can act on: printed as they are, without a stack. */
export class SetupError extends Error {}

// Daemons live in /usr/sbin, which is not on an ordinary user's PATH.
const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

const installed = (command) => {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore', env: { ...process.env, PATH: SEARCH_PATH } });
    return true;
  } catch {
    return false;
  }
};

/** The Debian packages `purpose` needs whose commands are not installed. */
export function missingPackages(purpose, isInstalled = installed) {
  if (!PURPOSES.includes(purpose)) throw new SetupError(`unknown purpose "${purpose}": expected one of ${PURPOSES.join(', ')}`);
  return DEBIAN_PACKAGES.filter((p) => p.purposes.includes(purpose) && !p.commands.every(isInstalled)).map((p) => p.name);
}

export const aptCommand = (packages) => `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;

/** Installs what is missing when root; otherwise stops with the exact command to run. */
function ensureDebianPackages(purpose, rerun, say) {
  const missing = missingPackages(purpose);
  if (missing.length === 0) return;
  const command = aptCommand(missing);
  if (process.getuid?.() !== 0) {
    throw new SetupError(`missing Debian packages: ${missing.join(', ')}. Install them, then run ${rerun} again:\n  sudo sh -c '${command}'`);
  }
  say(`installing ${missing.join(', ')} (apt-get)`);
  run('sh', ['-c', command], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = missingPackages(purpose);
  if (still.length > 0) throw new SetupError(`apt-get installed ${missing.join(', ')} but these still lack their commands: ${still.join(', ')}`);
}

// Sorted keys, so that two equal entries compare equal whatever order npm wrote them in.
const canonical = (value) => JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v)
  ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  : v));

/**
 * Why node_modules does not match the lockfile, or null when it does. `npm ci` records what it
 * installed in node_modules/.package-lock.json: the lockfile's own entries, less the root and the
 * optional packages it skipped (other platforms' binaries). So node_modules is current when every
 * installed entry equals the locked one and every locked entry not installed is optional. Content,
 * not modification times: a checkout or a copy changes times without changing what is installed.
 */
export function npmInstallStale(lock, installedLock) {
  if (!installedLock) return 'node_modules/.package-lock.json is missing (npm ci has not run)';
  const locked = lock.packages ?? {};
  const present = installedLock.packages ?? {};
  for (const [key, entry] of Object.entries(present)) {
    if (!(key in locked)) return `${key} is installed but not in package-lock.json`;
    if (canonical(entry) !== canonical(locked[key])) {
      const version = (e) => e.version ?? e.resolved;
      return `${key} differs from package-lock.json (installed ${version(entry)}, locked ${version(locked[key])})`;
    }
  }
  for (const [key, entry] of Object.entries(locked)) {
    if (key !== '' && !(key in present) && !entry.optional) return `${key} is in package-lock.json but not installed`;
  }
  return null;
}

const readJson = (file, { optional = false } = {}) => {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (optional && error.code === 'ENOENT') return null;
    throw new SetupError(`cannot read ${path.relative(ROOT, file)}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // A broken hidden lockfile is an interrupted install: install again. A broken lockfile is the user's.
    if (optional) return null;
    throw new SetupError(`${path.relative(ROOT, file)} is not valid JSON: ${error.message}`);
  }
};

function ensureNpmPackages(say) {
  const lock = readJson(path.join(ROOT, 'package-lock.json'));
  const stale = npmInstallStale(lock, readJson(path.join(ROOT, 'node_modules/.package-lock.json'), { optional: true }));
  if (stale === null) return;
  say(`installing npm packages (npm ci): ${stale}`);
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function run(file, args, options = {}) {
  try {
    execFileSync(file, args, { cwd: ROOT, stdio: 'inherit', ...options });
  } catch (error) {
    const how = error.code === 'ENOENT' ? `${file} not found` : error.signal ? `signal ${error.signal}` : `exit ${error.status}`;
    throw new SetupError(`${[file, ...args].join(' ')} failed (${how})`);
  }
}

/** Everything `purpose` needs before it runs; `rerun` is the command the user typed, for messages. */
export function setup(purpose, { rerun, say }) {
  ensureDebianPackages(purpose, rerun, say);
  ensureNpmPackages(say);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const purpose = process.argv[2] ?? '';
  const say = (line) => process.stderr.write(`[setup] ${line}\n`);
  try {
    // npm names the script it runs (test, test:integration...): the user's command to run again.
    const script = process.env.npm_lifecycle_event;
    setup(purpose, { rerun: script === 'test' ? 'npm test' : script ? `npm run ${script}` : `node scripts/setup.mjs ${purpose}`, say });
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    say(error.message);
    process.exit(1);
  }
}
