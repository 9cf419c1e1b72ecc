import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSource, sourceFiles } from './guard/files.js';
import { scan } from './guard/scanner.js';
import {
  APPROVALS, DEFAULT_RETRY_BUDGET, DIRECTIONS, HEALTH_BUCKETS, INTERMITTENT_WINDOW_SECONDS, LONG_TEST_ENABLE_SECONDS, RUNBOOK_BASE_URL,
  TAXONOMY, TEST_STATES,
} from './index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Copies the guard knows about, each with why it stays. A new copy fails the test; so does an entry
 * here that no longer matches anything (delete it).
 */
const KNOWN: { file: string; rule: string; why: string }[] = [
  // A: the PostgreSQL driver's migrations too, for the same reason.
  ...['exporter/src/store/sqlite/migrations.ts', 'exporter/src/store/postgres/migrations.ts'].flatMap((file) =>
    ['list of directions', 'list of approval states', 'list of Test & Enable states'].map((rule) => ({
      file, rule,
      why: 'a migration is history: it creates the same CHECK constraint forever, and a new value needs a new migration anyway',
    }))),
];

describe('the contract', () => {
  it('has unique members in each list', () => {
    for (const list of [DIRECTIONS, HEALTH_BUCKETS, APPROVALS, TEST_STATES, TAXONOMY.map((e) => e.code)]) {
      expect(new Set(list).size, list.join(',')).toBe(list.length);
    }
  });

  it('anchors every code in the runbook under its own name', () => {
    for (const e of TAXONOMY) expect(e.runbook).toBe(e.code);
    expect(RUNBOOK_BASE_URL).toMatch(/^https:\/\/\S+\.md$/);
  });

  it('has thresholds the panel and the config can hold', () => {
    // The panel's option is in whole minutes.
    expect(Number.isInteger(LONG_TEST_ENABLE_SECONDS / 60)).toBe(true);
    for (const n of [LONG_TEST_ENABLE_SECONDS, DEFAULT_RETRY_BUDGET, INTERMITTENT_WINDOW_SECONDS]) expect(Number.isInteger(n) && n > 0).toBe(true);
  });
});

describe('the copy scanner', () => {
  const rules = (text: string) => scan('fixture.ts', text).map((h) => `${h.line} ${h.rule}`);

  it('finds each kind of copy, on its line', () => {
    expect(rules("const a = 1;\nconst url = 'https://github.com/mailsync/mailsync/blob/main/alerts/runbook.md#x';")).toEqual(['2 runbook URL']);
    expect(rules("export const D = ['incoming', 'outgoing', 'act'];")).toEqual(['1 list of directions']);
    expect(rules("type D = 'act'\n  | 'outgoing'\n  | 'incoming';")).toEqual(['1 list of directions']);
    expect(rules("{ query: 'incoming,outgoing,act' }")).toEqual(['1 list of directions']);
    expect(rules('direction=~"incoming|outgoing|act"')).toEqual(['1 list of directions']);
    expect(rules("for (const h of ['healthy', 'failing', 'intermittent', 'inactive', 'testing']) {}")).toEqual(['1 list of health buckets']);
    expect(rules("type A = 'empty' | 'pending' | 'approved' | 'rejected';")).toEqual(['1 list of approval states']);
    expect(rules("type T = 'none' | 'scheduled' | 'running' | 'completed';")).toEqual(['1 list of Test & Enable states']);
    expect(rules('  longTestEnableSeconds: 900,')).toEqual(['1 long Test & Enable threshold']);
    expect(rules("  testEnableLongSeconds: 15 * 60,")).toEqual(['1 long Test & Enable threshold']);
    expect(rules(".addNumberInput({ path: 'longTestMinutes', defaultValue: 15, settings: { min: 1 } })")).toEqual(['1 long Test & Enable threshold']);
    expect(rules('const longTestMs = 900_000;')).toEqual(['1 long Test & Enable threshold']);
    expect(rules('{ maxTransientRetries: 10 }')).toEqual(['1 retry budget threshold']);
    expect(rules('  intermittentWindowSeconds: 3_600,')).toEqual(['1 intermittent window threshold']);
    expect(rules("import { TAXONOMY } from '../../exporter/src/classify/index.js';")).toEqual(['1 taxonomy imported from exporter/src']);
    expect(rules("row('dns_failed', 'transient', 'server', 'mailbox', 'interval', 'Temporary failure: connect failure',")).toEqual(['1 taxonomy row']);
  });

  it('passes ordinary words, subsets, other values and imports from the contract', () => {
    expect(rules([
      "// incoming, outgoing and act are the directions; healthy, failing, intermittent, inactive or testing",
      "expect(detail).toEqual({ directions: ['incoming', 'outgoing'] });",
      "const buckets = ['healthy', 'failing'];",
      "render(props({ longTestMinutes: 30 }));",
      "const settings = { maxTransientRetries: 0, intervalMs: 300_000 };",
      "retryBudgetWarnFailures: 5,",
      "conditionFor: '15m',",
      "const timeout = 900;",
      "['STARTTLS not offered', incoming(), 'secure_connection_failed', 'permanent', 'server'],",
      "import { RUNBOOK_BASE_URL, TAXONOMY } from '@mailsync/contract';",
      "const url = `${RUNBOOK_BASE_URL}#${code}`; // see alerts/runbook.md",
    ].join('\n'))).toEqual([]);
  });
});

describe('the sources', () => {
  const files = sourceFiles(root);
  const hits = files.flatMap((f) => scan(f, readSource(root, f)));
  const known = (h: { file: string; rule: string }) => KNOWN.some((k) => k.file === h.file && k.rule === h.rule);

  it('are read: every component, the tests and the demo', () => {
    for (const f of ['exporter/src/config/schema.ts', 'alerts/src/config.ts', 'dashboards/src/dashboards.ts', 'grafana-plugin/src/module.ts',
      'grafana-plugin/src/plugin.json', 'grafana-plugin/test/harness/entry.tsx', 'test/integration/alerting.test.ts', 'demo/run.mjs']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.includes('node_modules') || f.includes('/dist/') || f.startsWith('contract/'))).toBe(false);
  });

  it('write no value of the contract again (import it from @mailsync/contract)', () => {
    expect(hits.filter((h) => !known(h)).map((h) => `${h.file}:${h.line} ${h.rule}: ${h.text}`)).toEqual([]);
  });

  it('still have every copy the guard lets through (else delete its entry)', () => {
    expect(KNOWN.filter((k) => !hits.some((h) => h.file === k.file && h.rule === k.rule))).toEqual([]);
  });
});
