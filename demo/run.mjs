#!/usr/bin/env node
// `npm run demo`: the one command that shows mailsync working on a fresh Debian machine. It does
// its own setup (npm packages; the Debian packages when run as root, else it prints the exact
// command), builds, then starts the local lab (demo/lab.ts). Plain Node: nothing to install first.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = { dovecot: 'dovecot-imapd', doveadm: 'dovecot-imapd', prometheus: 'prometheus', 'prometheus-alertmanager': 'prometheus-alertmanager', dnsmasq: 'dnsmasq-base', openssl: 'openssl' };
const say = (line) => process.stderr.write(`[demo] ${line}\n`);
const has = (tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
};

const missing = [...new Set(Object.entries(TOOLS).filter(([tool]) => !has(tool)).map(([, pkg]) => pkg))];
if (missing.length > 0) {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    say(`missing Debian packages: ${missing.join(', ')}. Install them, then run npm run demo again:\n  sudo sh -c '${command}'`);
    process.exit(1);
  }
  say(`installing ${missing.join(', ')} (apt-get)`);
  execFileSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
if (!existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
  say('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
if (!existsSync(path.join(root, 'exporter/dist/cli/main.js'))) {
  say('building (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

const lab = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'demo/lab.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the lab too (same process group); it stops everything it started.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => lab.kill(signal));
lab.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
