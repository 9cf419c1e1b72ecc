import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli/main.js';
import { createMetrics } from './metrics/index.js';
import { VERSION } from './version.js';

/** exporter/package.json is the one place the version is written; everything else reads it. */
const packageVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the version', () => {
  it('is exporter/package.json\'s, in `mailsync --version` and in mailsync_build_info alike', async () => {
    expect(packageVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(VERSION).toBe(packageVersion);

    const printed: unknown[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: unknown) => {
      printed.push(text);
    });
    expect(await main(['--version'])).toBe(0);
    expect(printed).toEqual([packageVersion]);

    const metrics = createMetrics(new Registry(), {
      inFlight: () => 0, queueDepth: () => 0, mailboxes: () => 0, retryBudget: () => 10,
      fleet: () => Promise.reject(new Error('no store in this test')),
    });
    expect(await metrics.scrape()).toContain(`\nmailsync_build_info{version="${packageVersion}",nodejs_version="${process.version}"} 1\n`);
  });
});
