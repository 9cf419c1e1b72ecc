import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { assertBuilt, runCli } from '../harness/cli.js';

const TRACE_HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '../harness/import-trace.mjs')).href;

/**
 * The libraries of optional protocols, loaded on first use (lazy.ts): a runner whose
 * configuration never uses them does not pay their start-up CPU. nodemailer is also the home of
 * the address parser the incoming headers and the feed filter use (one small module): only its
 * transport, composer and the rest are lazy.
 */
const LAZY = ['mailparser', 'nodemailer', 'tsdav', 'ical.js', 'fast-xml-parser', 'jose'];
const EAGER_NODEMAILER_PART = '/nodemailer/dist/esm/addressparser/';

const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-lazy-imports-'));
beforeAll(() => assertBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The URLs `mailsync <args>` resolved, as the import-trace hook recorded them. */
async function resolvedBy(args: string[]): Promise<string[]> {
  const trace = path.join(dir, `trace-${Date.now()}.txt`);
  writeFileSync(trace, '');
  const { code, stderr } = await runCli(args, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${TRACE_HOOK}`.trim(),
    MAILSYNC_IMPORT_TRACE: trace,
    LAZY_TEST_PASSWORD: 'lazy-password',
  });
  expect(code, stderr).toBe(0);
  return readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t')[1] ?? '');
}

/** The package a module URL lies in (the innermost node_modules), or undefined for mailsync's own and Node's. */
function packageOf(url: string): string | undefined {
  return /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

describe('start-up loads no optional protocol library', () => {
  it('check-config on an IMAP-only config (which imports the whole runner) loads none of them', async () => {
    const config = path.join(dir, 'imap-only.yaml');
    writeFileSync(config, stringify({
      store: { path: path.join(dir, 'store.db') },
      organization: { id: 'lazy', processOnlyApproved: false, allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
      profiles: [{ id: 'imap', incoming: { host: '127.0.0.1', port: 1143, security: 'none', push: 'idle' } }],
      mailboxes: [{ id: 'm1', address: 'm1@lazy.example', profile: 'imap', credentials: { username: 'm1', password: '${LAZY_TEST_PASSWORD}' } }],
    }));
    const urls = await resolvedBy(['check-config', '--config', config]);
    const packages = new Set(urls.map(packageOf));
    // The trace sees the libraries every runner needs: it would see the lazy ones.
    expect([...packages]).toEqual(expect.arrayContaining(['imapflow', 'express', 'pg', 'zod', 'yaml']));
    const loaded = urls.filter((u) => LAZY.includes(packageOf(u) ?? '') && !u.includes(EAGER_NODEMAILER_PART));
    expect([...new Set(loaded.map(packageOf))], `loaded at start-up: ${loaded.slice(0, 5).join(', ')}`).toEqual([]);
  });
});
