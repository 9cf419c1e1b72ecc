import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, resolveConfigPath } from './index.js';
import { MAX_PROBLEMS } from './errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.join(here, 'testdata');
const repoRoot = path.resolve(here, '../../..');

function problemsOf(file: string): string[] {
  try {
    loadConfigFile(file, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`${file} was accepted`);
}

describe('invalid config fixtures', () => {
  const fixtures = readdirSync(testdata).filter((f) => f.endsWith('.yaml'));
  it.each(fixtures)('%s is rejected with the paired errors', (name) => {
    const expected = readFileSync(path.join(testdata, name.replace(/\.yaml$/, '.errors')), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.replaceAll('${DIR}', testdata));
    expect(problemsOf(path.join(testdata, name))).toEqual(expected);
  });
});

describe('unbounded input', () => {
  it('lists the first problems of a file of random bytes and counts the rest, on printable lines', () => {
    // Deterministic noise: a chain of SHA-256 digests.
    const blocks: Buffer[] = [createHash('sha256').update('seed').digest()];
    while (blocks.length < 6_000) blocks.push(createHash('sha256').update(blocks.at(-1)!).digest());
    const bytes = Buffer.concat(blocks);
    let problems: string[] = [];
    try {
      parseConfig(bytes.toString('latin1'), '/etc/mailsync/random.yaml');
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems.at(-1)).toMatch(/^\.\.\. and \d+ more problems$/);
    expect(problems.join('\n').length).toBeLessThan(10_000);
    // No control character reaches a terminal or a reload answer.
    for (const p of problems) expect([...p].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  });
});

describe('valid config', () => {
  it('loads the shipped example with defaults applied and secrets resolved', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-config-'));
    const example = readFileSync(path.join(repoRoot, 'examples/mailsync.yaml'), 'utf8')
      .replace('/run/secrets/mailsync-svc', path.join(dir, 'svc-secret'))
      .replace('/run/secrets/mailsync-admin-token', path.join(dir, 'admin-token'));
    writeFileSync(path.join(dir, 'svc-secret'), 'svc-pass\n');
    writeFileSync(path.join(dir, 'admin-token'), 'admin-token-0123456789abcdef\n');
    const config = parseConfig(example, path.join(dir, 'mailsync.yaml'), {
      env: { SALES_IMAP_PASSWORD: 's3cret', LIAISON_IMAP_PASSWORD: 'l1', MAILSYNC_ONCALL_TOKEN: 'oncall-token-0123456789', CRM_WEBHOOK_SECRET: 'crm-webhook-secret-0123456789' },
    });
    // D: the webhook example.
    expect(config.webhooks.map((w) => [w.id, w.events, w.secret.reveal(), w.maxAttempts])).toEqual([
      ['crm', ['email_stored', 'act_item_changed', 'act_item_deleted', 'direction_disabled'], 'crm-webhook-secret-0123456789', 12],
    ]);

    expect(config.store.path).toBe(path.resolve(dir, '../data/mailsync.db'));
    expect(config.profiles.map((p) => [p.id, p.incoming.host, p.incoming.autodiscover, p.incoming.port, p.incoming.security])).toEqual([
      ['corp-imap', 'imap.contoso.example', false, 993, 'tls'],
      ['corp-impersonation', 'imap.contoso.example', false, 143, 'starttls'],
      ['partners', undefined, true, 993, 'tls'],
    ]);
    expect(config.api.tokens.map((t) => [t.name, t.role, t.token.reveal()])).toEqual([
      ['oncall', 'operator', 'oncall-token-0123456789'],
      ['mail-admin', 'admin', 'admin-token-0123456789abcdef'],
    ]);
    expect(config.organization).toMatchObject({ processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: true, retry: { maxBackoffSeconds: 3600 } });
    expect(config.profiles[1]?.incoming.caFile).toBe(path.join(dir, 'contoso-ca.pem'));
    expect(config.profiles[1]?.auth.credentials?.password.reveal()).toBe('svc-pass');
    expect(config.mailboxes[0]?.credentials?.password.reveal()).toBe('s3cret');
    expect(config.mailboxes[1]).toMatchObject({ folders: ['INBOX'], incoming: true, outgoing: false, startFrom: '2026-01-01' });
    expect(config.mailboxes[0]?.startFrom).toBe('all');
    expect(config.warnings).toEqual([]);
  });

  it('never shows a secret when the config is logged, serialised or inspected', () => {
    const config = parseConfig(
      'organization: { id: o }\nprofiles: [{ id: p, incoming: { host: h } }]\n' +
        'mailboxes: [{ id: m, address: m@x.example, profile: p, credentials: { username: m, password: hunter2 } }]\n',
      '/tmp/x.yaml',
      { env: {} },
    );
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(inspect(config, { depth: 10 })).not.toContain('hunter2');
    expect(`${config.mailboxes[0]?.credentials?.password}`).toBe('[redacted]');
    expect(config.warnings).toEqual(['mailboxes[0].credentials.password: secret written inline; prefer "${ENV_NAME}" or { file: ... }']);
  });

  it('A: reads the PostgreSQL url as a secret and resolves its TLS files next to the config', () => {
    const config = parseConfig(
      'organization: { id: o }\nprofiles: [{ id: p, incoming: { host: h } }]\n' +
        'store: { driver: postgresql, postgresql: { url: "${DB_URL}", ssl: { mode: verify-full, caFile: tls/ca.pem }, poolSize: 4 } }\n',
      '/etc/mailsync/x.yaml',
      { env: { DB_URL: 'postgresql://mailsync:hunter2@db.example/mailsync' } },
    );
    expect(config.store).toMatchObject({ driver: 'postgresql', postgresql: { ssl: { mode: 'verify-full', caFile: '/etc/mailsync/tls/ca.pem' }, poolSize: 4 } });
    expect(config.store.postgresql?.url.reveal()).toBe('postgresql://mailsync:hunter2@db.example/mailsync');
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(inspect(config, { depth: 10 })).not.toContain('hunter2');
    expect(config.warnings).toEqual([]);
  });

  it('warns about plaintext servers without rejecting them', () => {
    const config = parseConfig(
      'organization: { id: o }\nprofiles: [{ id: p, incoming: { host: h, security: none } }]\n',
      '/tmp/x.yaml',
    );
    expect(config.profiles[0]?.incoming.port).toBe(143);
    expect(config.warnings).toEqual(['profiles[0].incoming.security: "none" sends mail without encryption']);
  });

  it('accepts a plain http autoconfig URL when both insecure-channel settings allow it', () => {
    const yaml = (org: string) => `organization: { id: o${org} }
autodiscover: { autoconfigUrls: ["http://autoconfig.{domain}/mail/config-v1.1.xml"] }
profiles: [{ id: p, incoming: { autodiscover: true } }]
`;
    expect(parseConfig(yaml(', allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true'), '/tmp/x.yaml').autodiscover.autoconfigUrls).toHaveLength(1);
    expect(() => parseConfig(yaml(', allowCredentialsOverInsecureChannel: true'), '/tmp/x.yaml')).toThrow('autodiscover.autoconfigUrls[0]: "http://autoconfig.{domain}');
  });
});

describe('resolveConfigPath', () => {
  it('prefers the flag, then MAILSYNC_CONFIG, and explains when neither is given', () => {
    expect(resolveConfigPath('/a.yaml', { MAILSYNC_CONFIG: '/b.yaml' })).toBe('/a.yaml');
    expect(resolveConfigPath(undefined, { MAILSYNC_CONFIG: '/b.yaml' })).toBe('/b.yaml');
    expect(() => resolveConfigPath(undefined, {})).toThrow('no config file: pass --config FILE or set MAILSYNC_CONFIG');
  });

  it('reports an unreadable file with its path', () => {
    expect(() => loadConfigFile('/nonexistent/mailsync.yaml')).toThrow(/invalid config \/nonexistent\/mailsync.yaml:\n {2}- cannot read the file: ENOENT/);
  });
});
