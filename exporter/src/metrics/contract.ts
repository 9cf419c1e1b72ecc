import { FAMILIES, type Family } from './families.js';

/**
 * Holds a scrape to the table of families: what a test needs to catch a family written twice, a
 * family served but not in the table, or a series with labels the table does not give it. Parses
 * only what mailsync writes (text format 0.0.4 or OpenMetrics 1.0, no timestamps). In OpenMetrics
 * a counter's family is named without `_total`: it is recorded under the table's `_total` name.
 */
export interface Exposition {
  /** Every `# TYPE` line, in order (a family written twice appears twice). */
  types: { name: string; type: string }[];
  samples: { name: string; labels: string[] }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

export function parseExposition(text: string): Exposition {
  const out: Exposition = { types: [], samples: [] };
  const openMetrics = text.endsWith('\n# EOF\n');
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF' || line.startsWith('# HELP ') || line.startsWith('# UNIT ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [name, kind] = [type[1] as string, type[2] as string];
      out.types.push({ name: openMetrics && kind === 'counter' && !name.endsWith('_total') ? `${name}_total` : name, type: kind });
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    out.samples.push({ name: sample[1] as string, labels: [...(sample[2] ?? '').matchAll(LABEL)].map((m) => m[1] as string) });
  }
  return out;
}

/** Everything in `text` that disagrees with the table; empty when the scrape keeps the contract. */
export function contractProblems(text: string, table: readonly Family[] = FAMILIES): string[] {
  const { types, samples } = parseExposition(text);
  const known = new Map(table.map((f) => [f.name, f]));
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const { name, type } of types) {
    if (declared.has(name)) problems.push(`${name}: # TYPE written more than once`);
    declared.add(name);
    const f = known.get(name);
    if (!f) problems.push(`${name}: served but not in the table`);
    else if (f.type !== type) problems.push(`${name}: served as ${type}, the table says ${f.type}`);
  }
  for (const s of samples) {
    const f = familyOf(s.name, known);
    if (!f || !declared.has(f.name)) {
      problems.push(`${s.name}: a sample of no declared family in the table`);
      continue;
    }
    // A histogram's buckets carry `le` on top of the family's labels. Order is not part of the
    // contract (prom-client writes labels in the order the caller passed them).
    const labels = s.name === `${f.name}_bucket` ? s.labels.filter((l) => l !== 'le') : s.labels;
    if ([...labels].sort().join(',') !== [...f.labels].sort().join(',')) problems.push(`${s.name}: labels {${s.labels.join(',')}}, the table says {${f.labels.join(',')}}`);
  }
  return [...new Set(problems)];
}

function familyOf(sample: string, known: Map<string, Family>): Family | undefined {
  const direct = known.get(sample);
  if (direct) return direct;
  const suffix = HISTOGRAM_SUFFIXES.find((x) => sample.endsWith(x));
  const f = suffix ? known.get(sample.slice(0, -suffix.length)) : undefined;
  return f?.type === 'histogram' ? f : undefined;
}
