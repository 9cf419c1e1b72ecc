import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contractProblems } from './contract.js';
import { FAMILIES } from './families.js';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/metrics.md');

/** The rows of docs/metrics.md's family tables: `| \`name\` | type | \`label\`, ... | meaning |`. */
function documented(): { name: string; type: string; labels: string[] }[] {
  return [...readFileSync(docs, 'utf8').matchAll(/^\| `((?:mailsync|process|nodejs)_[a-z0-9_]+)` \| ([a-z]+) \|([^|]*)\|/gm)]
    .map((m) => ({ name: m[1] as string, type: m[2] as string, labels: [...(m[3] as string).matchAll(/`([a-z_]+)`/g)].map((l) => l[1] as string) }));
}

describe('the table of metric families', () => {
  it('names each family once', () => {
    const names = FAMILIES.map((f) => f.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('is docs/metrics.md\'s list, both ways: names, types and labels', () => {
    const doc = documented();
    expect(doc.length).toBeGreaterThan(20);
    const docNames = doc.map((d) => d.name);
    expect(docNames.filter((n, i) => docNames.indexOf(n) !== i)).toEqual([]);
    const table = Object.fromEntries(FAMILIES.map((f) => [f.name, { type: f.type, labels: [...f.labels] }]));
    expect(table).toEqual(Object.fromEntries(doc.map((d) => [d.name, { type: d.type, labels: d.labels }])));
  });

  it('finds a family written twice, one not in the table, and labels the table does not give', () => {
    const text = [
      '# TYPE mailsync_scheduler_in_flight gauge', 'mailsync_scheduler_in_flight 1',
      '# TYPE mailsync_scheduler_in_flight gauge', 'mailsync_scheduler_in_flight 1',
      '# TYPE mailsync_unknown gauge', 'mailsync_unknown 1',
      '# TYPE mailsync_profile_info counter', 'mailsync_profile_info{profile="p"} 1',
      '# TYPE mailsync_sync_duration_seconds histogram',
      'mailsync_sync_duration_seconds_bucket{le="+Inf",direction="incoming",profile="p"} 1',
      'mailsync_sync_duration_seconds_count{direction="incoming",profile="p",extra="x"} 1',
    ].join('\n');
    expect(contractProblems(text)).toEqual([
      'mailsync_scheduler_in_flight: # TYPE written more than once',
      'mailsync_unknown: served but not in the table',
      'mailsync_profile_info: served as counter, the table says gauge',
      'mailsync_unknown: a sample of no declared family in the table',
      'mailsync_profile_info: labels {profile}, the table says {profile,owner,protocol}',
      'mailsync_sync_duration_seconds_count: labels {direction,profile,extra}, the table says {direction,profile}',
    ]);
  });
});
