import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../harness/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-startup-'));
let taken: Server;
let takenPort = 0;

beforeAll(async () => {
  assertBuilt();
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

function config(name: string, lines: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `organization: { id: acme }\nprofiles: [{ id: p, incoming: { host: imap.example.com } }]\n${lines}\n`);
  return file;
}

/** One line on stderr, no stack frame, no install path. */
function expectOneCleanLine(stderr: string, text: string): void {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  expect(lines).toEqual([text]);
}

describe('a runner that cannot start says why in one line', () => {
  it('a store.path that is a directory', async () => {
    const storeDir = path.join(dir, 'a-directory');
    mkdirSync(storeDir);
    const file = config('dir', `store: { path: ${storeDir} }\nserver: { listen: "127.0.0.1:0" }`);
    const { code, stderr } = await runCli(['run', '--config', file]);
    expect(code).toBe(1);
    expectOneCleanLine(stderr, `mailsync: store.path ${storeDir}: cannot open the store: it is a directory, not a file`);
  });

  it('a listen address already in use', async () => {
    const file = config('port', `store: { path: ${path.join(dir, 'port.db')} }\nserver: { listen: "127.0.0.1:${takenPort}" }`);
    const { code, stderr } = await runCli(['run', '--config', file]);
    expect(code).toBe(1);
    expectOneCleanLine(stderr, `mailsync: server.listen 127.0.0.1:${takenPort}: the address is already in use (another process listens there)`);
  });

  it('a YAML alias bomb is a config problem (exit 2 for run, 1 for check-config), not a stack trace', async () => {
    const aliases = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 7; i++) aliases.push(`${'abcdefg'[i]}: &${'abcdefg'[i]} [${Array(9).fill(`*${'abcdefg'[i - 1]}`).join(',')}]`);
    const file = config('bomb', aliases.join('\n'));
    const run = await runCli(['run', '--config', file]);
    const check = await runCli(['check-config', '--config', file]);
    expect([run.code, check.code]).toEqual([2, 1]);
    for (const out of [run.stderr, check.stderr]) {
      expect(out).toContain('YAML: aliases expand to too many nodes');
      expect(out).not.toMatch(/node_modules|at \w+ \(/);
    }
  });
});
