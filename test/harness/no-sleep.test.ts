import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Tests wait for what they need (a log line, a metric, a server event, a row: test/harness/wait.ts),
 * never for a fixed time, and assert behaviour, never elapsed time: a sleep is too short on a busy
 * machine and too long everywhere else, and a duration bound fails on a slow one. This guard finds
 * the forms those took, so that they do not come back.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const RULES: { name: string; pattern: RegExp }[] = [
  // A promise whose executor only schedules its own resolution: `new Promise((r) => setTimeout(r, 100))`.
  {
    name: 'sleep: new Promise resolved by setTimeout',
    pattern: /new Promise(?:<[^>]*>)?\(\s*\(?\s*([A-Za-z_$][\w$]*)\s*\)?\s*=>\s*\{?\s*setTimeout\(\s*(?:\1|\(\)\s*=>\s*\1\(\))\s*,/g,
  },
  // The promise form of the same sleep; waitFor's poll interval is the one use.
  { name: 'sleep: timers/promises imported', pattern: /from\s+['"](?:node:)?timers\/promises['"]/g },
  { name: 'elapsed-time assertion', pattern: /expect\(\s*(?:(?:Date|performance)\.now\(\)\s*-|process\.hrtime)/g },
];

/** `line: rule` for each forbidden form in `source`. */
function findSleeps(source: string): string[] {
  const found: string[] = [];
  for (const { name, pattern } of RULES) {
    for (const m of source.matchAll(pattern)) found.push(`${source.slice(0, m.index).split('\n').length}: ${name}`);
  }
  return found;
}

/**
 * Every file of test/ and every test file of the packages, but the benchmarks (they measure time on
 * purpose) and the soak tools (a crash campaign kills at random moments of the clock, by design).
 */
function scannedFiles(): string[] {
  const under = (dir: string) => readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
  const own = new Set(['test/harness/wait.ts', 'test/harness/no-sleep.test.ts']);
  const harness = under('test').filter((f) => /\.tsx?$/.test(f) && !f.startsWith('test/bench/') && !f.startsWith('test/soak/') && !own.has(f));
  const packages = ['exporter/src', 'alerts/src', 'dashboards/src', 'grafana-plugin/src'].flatMap(under).filter((f) => /\.test\.tsx?$/.test(f));
  return [...harness, ...packages];
}

describe('no test sleeps or times itself', () => {
  it('finds the forbidden forms (fixtures)', () => {
    expect(findSleeps('await new Promise((r) => setTimeout(r, 2_500));')).toEqual(['1: sleep: new Promise resolved by setTimeout']);
    expect(findSleeps('x;\nawait new Promise<void>(resolve => {\n  setTimeout(() => resolve(), 100);\n});')).toEqual(['2: sleep: new Promise resolved by setTimeout']);
    expect(findSleeps("import { setTimeout as sleep } from 'node:timers/promises';")).toEqual(['1: sleep: timers/promises imported']);
    expect(findSleeps('expect(Date.now() - started).toBeLessThan(10_000);')).toEqual(['1: elapsed-time assertion']);
  });

  it('leaves timeouts, timer fakes and ordinary bounds alone (fixtures)', () => {
    // A timeout that rejects a wait, a kill deadline, an injected timer, a count bound.
    expect(findSleeps('new Promise((resolve, reject) => { const timer = setTimeout(() => reject(new Error("x")), 5_000); });')).toEqual([]);
    expect(findSleeps("const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);")).toEqual([]);
    expect(findSleeps('setTimeout: (fn: () => void, ms: number) => { queue.push({ fn, ms }); },')).toEqual([]);
    expect(findSleeps('expect(stored).toBeLessThan(40); expect(email.nextAttemptAt).toBeGreaterThanOrEqual(before + 300_000);')).toEqual([]);
  });

  it('no file under test/ and no package test file has one', () => {
    const files = scannedFiles();
    expect(files).toContain('test/integration/process.test.ts');
    const found = files.flatMap((f) => findSleeps(readFileSync(path.join(root, f), 'utf8')).map((hit) => `${f}:${hit}`));
    expect(found).toEqual([]);
  });
});
