#!/usr/bin/env node
// `npm run demo`: the one command that shows mailsync working on a fresh Debian machine. It does
// its own set-up, the same as `npm test` (scripts/setup.mjs: the Debian packages the demo needs
// when run as root, else it prints the exact apt-get command and stops; `npm ci` when
// node_modules does not match package-lock.json), builds if nothing is built, then starts the
// local lab (demo/lab.ts). Plain Node: nothing to install first.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT as root, SetupError, setup } from '../scripts/setup.mjs';

const say = (line) => process.stderr.write(`[demo] ${line}\n`);
try {
  setup('demo', { rerun: 'npm run demo', say });
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  say(error.message);
  process.exit(1);
}
// Built once: unlike `npm test`, the demo does not rebuild on every start (run `npm run build`
// after changing the code).
if (!existsSync(path.join(root, 'exporter/dist/cli/main.js'))) {
  say('building (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

const lab = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'demo/lab.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the lab too (same process group); it stops everything it started.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => lab.kill(signal));
lab.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
