import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config/index.js';
import { mailboxView, OWNERSHIP_UNSUPPORTED } from '../mailboxes/view.js';
import { openStore } from '../store/index.js';
import { emptyLifecycle } from '../store/types.js';
import { parseIdsFile } from './approve.js';
import { VERSION } from '../version.js';
import { COMMANDS, helpFor, MAIN_HELP } from './commands.js';
import { mailboxesCommand, mailboxesRequest } from './mailboxes.js';
import { main } from './main.js';
import { helpText, parseCommandLine, type CommandSpec } from './options.js';
import { UsageError } from './usage-error.js';

const specs = Object.values(COMMANDS);

/** The option names the help's Options section lists, in order. */
function listedOptions(help: string): string[] {
  const section = help.split('\n\nOptions:\n')[1]!.split('\n\n')[0]!;
  return section.split('\n').map((line) => /^ {2}(?:-\w, | {4})--([\w.-]+)/.exec(line)?.[1] ?? `unparsable: ${line}`);
}

/** Arguments that give every required option of `spec`, plus `extra`. */
function withRequired(spec: CommandSpec, extra: string[]): string[] {
  const required = Object.entries(spec.options).filter(([, def]) => def.required).flatMap(([name]) => [`--${name}`, 'x']);
  return [...required, ...extra];
}

/** Runs main with console output captured. */
async function run(argv: string[]) {
  const out = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await main(argv);
    const lines = (spy: typeof out) => spy.mock.calls.map((c) => String(c[0])).join('\n').split('\n').filter((l) => l !== '');
    return { code, stdout: lines(out), stderr: lines(err) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('help derived from the option tables', () => {
  it.each(specs.map((s) => [s.name, s] as const))('%s: the help lists exactly the options parseArgs accepts', (_, spec) => {
    const help = helpText(spec);
    expect(listedOptions(help)).toEqual(Object.keys(spec.options));
    for (const [name, def] of Object.entries(spec.options)) {
      const given = def.type === 'string' ? [`--${name}`, 'v'] : [`--${name}`];
      expect(() => parseCommandLine(spec, withRequired(spec, given)), `--${name}`).not.toThrow();
      if (def.short) expect(() => parseCommandLine(spec, withRequired(spec, [`-${def.short}`, ...given.slice(1)])), `-${def.short}`).not.toThrow();
    }
    expect(() => parseCommandLine(spec, ['--not-in-the-table'])).toThrow(UsageError);
  });

  it.each(specs.map((s) => s.name))('%s --help and help %s print the help and exit 0, required options or not', async (name) => {
    expect(await run([name, '--help'])).toEqual({ code: 0, stdout: helpText(COMMANDS[name]!).split('\n').filter((l) => l !== ''), stderr: [] });
    expect(helpFor(name)).toBe(helpText(COMMANDS[name]!));
  });

  it('keeps the paragraphs around the options', () => {
    expect(helpFor('mailboxes')).toContain('test-enable ID [--this-organization-only] [--send-test-message]');
    expect(helpFor('send')).toMatch(/^Usage: mailsync send --mailbox ID/);
    expect(helpFor('sync-once')).toMatch(/Exit status: 0 the cycle succeeded, 1 it failed \(the JSON says why\), 2 bad usage or config\.\n\nOptions:/);
    expect(helpFor(undefined)).toBe(MAIN_HELP);
    expect(helpFor('no-such-command')).toBe(MAIN_HELP);
  });
});

describe('usage errors', () => {
  it.each(specs.map((s) => s.name))('%s: an unknown option is one usage error line and exit 2', async (name) => {
    const result = await run([name, '--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toHaveLength(2);
    expect(result.stderr[0]).toMatch(new RegExp(`^mailsync: ${name}: Unknown option '--no-such-option'`));
    expect(result.stderr[1]).toBe(`Run 'mailsync ${name} --help' for usage.`);
  });

  it('names the missing required option', async () => {
    expect(await run(['sync-once', '--config', '/nonexistent.yaml'])).toMatchObject({ code: 2, stderr: ['mailsync: sync-once: --mailbox ID is required', "Run 'mailsync sync-once --help' for usage."] });
    expect(await run(['send', '--mailbox', ''])).toMatchObject({ code: 2, stderr: ['mailsync: send: --mailbox ID is required', "Run 'mailsync send --help' for usage."] });
    expect(await run(['mailboxes', 'disable', 'x'])).toMatchObject({ code: 2, stderr: [expect.stringContaining('mailboxes disable: --reason TEXT is required'), expect.any(String)] });
  });

  it('an unknown command points at the overview', async () => {
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, stderr: ['mailsync: unknown command "frobnicate"', "Run 'mailsync --help' for usage."] });
  });

  it('--version prints the version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: [VERSION], stderr: [] });
    expect(await run(['version'])).toEqual({ code: 0, stdout: [VERSION], stderr: [] });
  });
});

describe('mailboxes requests', () => {
  it('turns list filters into the query and actions into requests', () => {
    expect(mailboxesRequest(['list', '--state', 'enabled', '--page-size', '10', '--url', 'http://h:1'])).toEqual({
      json: false, url: 'http://h:1', tokenFile: undefined, request: { method: 'GET', path: '/api/mailboxes?state=enabled&pageSize=10' },
    });
    expect(mailboxesRequest(['disable', 'm 1', '--reason', 'moving', '--direction', 'incoming', '--direction', 'act', '--json'])).toMatchObject({
      json: true, request: { method: 'POST', path: '/api/mailboxes/m%201/disable', body: { reason: 'moving', directions: ['incoming', 'act'] } },
    });
    expect(mailboxesRequest(['-h'])).toBe('help');
    expect(() => mailboxesRequest(['show'])).toThrow('mailboxes show: the mailbox ID is required');
  });
});

describe('mailboxes show', () => {
  it('prints the ownership warning of a server without METADATA right under the state', async () => {
    const config = parseConfig(`organization: { id: acme }
profiles: [{ id: corp, incoming: { host: imap.example.com } }]
mailboxes: [{ id: m, address: m@example.com, profile: corp, credentials: { username: m, password: "\${PW}" } }]
`, '/etc/mailsync.yaml', { env: { PW: 'pw' } });
    const lifecycle = emptyLifecycle('m');
    lifecycle.test = { ...lifecycle.test, state: 'completed', result: { checks: [{ direction: 'incoming', ok: true, steps: [] }], untested: [], ownership: 'unsupported' } };
    // The body the API sends: the real view, so the CLI is tested against what it will be given.
    const body = { ...mailboxView(config.mailboxes[0]!, new Map(), lifecycle, config, 0), alerts: [] };
    const server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const lines: string[] = [];
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const code = await mailboxesCommand(['show', 'm', '--url', url], { env: { MAILSYNC_TOKEN: 't' }, out: (l) => lines.push(...l.split('\n')), err: (l) => lines.push(l) });
      expect(code).toBe(0);
      expect(lines.slice(0, 3)).toEqual([
        'm <m@example.com> profile corp',
        '  health: inactive   approval: empty   Test & Enable: completed',
        `  WARNING: ${OWNERSHIP_UNSUPPORTED}`,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('mailboxes approve on a selection', () => {
  it('turns a filter into a bulk approve, through the API unless --config is given', () => {
    expect(mailboxesRequest(['approve', '--profile', 'corp', '--comment', 'go', '--url', 'http://h:1'])).toEqual({
      bulk: { selection: { profile: 'corp' }, comment: 'go', configFile: undefined, json: false, target: { url: 'http://h:1', tokenFile: undefined } },
    });
    expect(mailboxesRequest(['approve', '--all', '--config', 'm.yaml'])).toMatchObject({ bulk: { selection: { all: true }, configFile: 'm.yaml' } });
    expect(mailboxesRequest(['approve', '--ids-file', 'ids.txt'])).toMatchObject({ bulk: { selection: { idsFile: 'ids.txt' } } });
    // One ID offline is a selection of one; online it stays the single approval.
    expect(mailboxesRequest(['approve', 'ann', '-c', 'm.yaml'])).toMatchObject({ bulk: { selection: { ids: ['ann'] }, configFile: 'm.yaml' } });
    expect(mailboxesRequest(['approve', 'ann'])).toMatchObject({ request: { method: 'POST', path: '/api/mailboxes/ann/approve' } });
  });

  it('asks for exactly one way of naming the mailboxes', () => {
    expect(() => mailboxesRequest(['approve'])).toThrow('mailboxes approve: name the mailboxes: an ID, --profile P, --all or --ids-file FILE');
    expect(() => mailboxesRequest(['approve', 'ann', '--all'])).toThrow('mailboxes approve: give one of ID, --profile, --all, --ids-file (got ID and --all)');
    expect(() => mailboxesRequest(['approve', '--profile', 'p', '--ids-file', 'f'])).toThrow('(got --profile and --ids-file)');
    expect(() => mailboxesRequest(['reject', 'ann', '--all'])).toThrow('mailboxes reject: --all works only with approve');
    expect(() => mailboxesRequest(['list', '--config', 'm.yaml'])).toThrow('mailboxes list: --config works only with approve');
  });

  it('reads one id a line from --ids-file, skipping blanks and # comments', () => {
    expect(parseIdsFile('# sales team\nann\n\n  ben   # moved from support\r\ncat\n#dan\n')).toEqual(['ann', 'ben', 'cat']);
  });
});

describe('mailboxes approve --config (offline, before the first run)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-approve-'));
  const file = path.join(dir, 'mailsync.yaml');
  writeFileSync(file, `
store: { path: ./store.db }
organization: { id: acme }
profiles:
  - { id: corp, incoming: { host: imap.example.com } }
  - { id: trusted, incoming: { host: imap.example.com }, auth: { mode: impersonation, credentials: { username: svc, password: { file: ./pw } } } }
mailboxes:
  - { id: ann, address: ann@example.com, profile: corp, credentials: { username: ann, password: { file: ./pw } } }
  - { id: ben, address: ben@example.com, profile: corp, credentials: { username: ben, password: { file: ./pw } } }
  - { id: ceo, address: ceo@example.com, profile: trusted }
`);
  writeFileSync(path.join(dir, 'pw'), 'a-password\n');
  writeFileSync(path.join(dir, 'ids.txt'), 'ceo # the board asked\nghost\n');

  it('approves in the store as the local user with the admin role, each mailbox audited', async () => {
    const result = await run(['mailboxes', 'approve', '--profile', 'corp', '--config', file, '--comment', 'day one']);
    expect(result).toEqual({ code: 0, stdout: ['approved 2: ann, ben'], stderr: [] });
    const partial = await run(['mailboxes', 'approve', '--ids-file', path.join(dir, 'ids.txt'), '--config', file]);
    expect(partial).toEqual({ code: 1, stdout: ['approved 1: ceo', 'refused 1:', '  ghost: no mailbox "ghost" in the config'], stderr: [] });
    const store = await openStore({ path: path.join(dir, 'store.db') });
    try {
      expect(await store.lifecycle.get('ceo')).toMatchObject({ approval: 'approved', approvalBy: `local:${userInfo().username}`, approvalRole: 'admin' });
      expect(await store.lifecycle.auditLog('ann')).toMatchObject([{ action: 'approve', role: 'admin', detail: { bulk: 'profile corp', comment: 'day one' } }]);
      // Once the service has run on the store, approvals go through its API.
      await store.runs.startRun('ann', 'incoming', 1, false);
    } finally {
      await store.close();
    }
    expect(await run(['mailboxes', 'approve', '--all', '--config', file])).toMatchObject({
      code: 1, stderr: [expect.stringMatching(/the service has already run on .*store\.db: approve through its API/)],
    });
  });
});
