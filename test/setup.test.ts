import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aptCommand, DEBIAN_PACKAGES, missingPackages, npmInstallStale, SetupError } from '../scripts/setup.mjs';

const lock = {
  packages: {
    '': { name: 'mailsync', workspaces: ['contract'] },
    'node_modules/zod': { version: '3.25.0', integrity: 'sha512-a' },
    'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true, os: ['darwin'] },
  },
};
const installed = { packages: { 'node_modules/zod': { integrity: 'sha512-a', version: '3.25.0' } } };

describe('npm set-up: node_modules against package-lock.json', () => {
  it('is current when every installed entry is the locked one and only optional ones are skipped (key order aside)', () => {
    expect(npmInstallStale(lock, installed)).toBeNull();
  });

  it('is stale with no record of an install, naming the file', () => {
    expect(npmInstallStale(lock, null)).toMatch(/node_modules\/\.package-lock\.json is missing/);
  });

  it('is stale when a locked package changed, was added or was removed, naming it', () => {
    const bumped = { packages: { ...lock.packages, 'node_modules/zod': { version: '3.26.0', integrity: 'sha512-b' } } };
    expect(npmInstallStale(bumped, installed)).toBe('node_modules/zod differs from package-lock.json (installed 3.25.0, locked 3.26.0)');
    const added = { packages: { ...lock.packages, 'node_modules/yaml': { version: '2.8.0' } } };
    expect(npmInstallStale(added, installed)).toBe('node_modules/yaml is in package-lock.json but not installed');
    const removed = { packages: { '': lock.packages[''] } };
    expect(npmInstallStale(removed, installed)).toBe('node_modules/zod is installed but not in package-lock.json');
  });

  it('finds this checkout current (else npm test would reinstall on every run)', () => {
    const read = (f: string) => JSON.parse(readFileSync(new URL(`../${f}`, import.meta.url), 'utf8')) as Parameters<typeof npmInstallStale>[0];
    expect(npmInstallStale(read('package-lock.json'), read('node_modules/.package-lock.json'))).toBeNull();
  });
});

describe('Debian set-up', () => {
  const none = () => false;

  it('asks the tests for every package .ci/run used to install, the demo for a subset, the unit tests for none', () => {
    expect(missingPackages('test', none).sort()).toEqual(['chromium', 'dnsmasq-base', 'docker-compose', 'dovecot-imapd', 'dovecot-lmtpd', 'dovecot-pop3d', 'fetchmail', 'getmail6', 'isync', 'jsonnet', 'openssl', 'postgresql', 'prometheus', 'prometheus-alertmanager', 'prometheus-node-exporter', 'python3-bcrypt', 'radicale', 'vdirsyncer']);
    expect(missingPackages('demo', none).every((p) => missingPackages('test', none).includes(p))).toBe(true);
    expect(missingPackages('demo', none)).not.toContain('chromium');
    expect(missingPackages('unit', none)).toEqual([]);
  });

  it('counts a package missing when any of its commands is', () => {
    expect(missingPackages('test', (c) => c !== 'promtool')).toEqual(['prometheus']);
    expect(missingPackages('test', () => true)).toEqual([]);
  });

  it('prints one apt-get command for what is missing', () => {
    expect(aptCommand(['isync', 'chromium'])).toBe('apt-get update && apt-get install -y --no-install-recommends isync chromium');
  });

  it('rejects an unknown purpose by name', () => {
    expect(() => missingPackages('tests')).toThrow(SetupError);
    expect(() => missingPackages('tests')).toThrow(/unknown purpose "tests": expected one of test, unit, demo/);
    expect(DEBIAN_PACKAGES.every((p) => p.commands.length > 0)).toBe(true);
  });
});
