import type { ExpositionFormat } from './format.js';

/**
 * The Prometheus text format (version 0.0.4) and OpenMetrics 1.0, as far as the per-mailbox state
 * families need them. prom-client's labelled gauges cost an object per series plus a label-escaping
 * pass on every scrape; these lines are written straight to text instead, with each mailbox's label
 * prefix escaped once, and kept until the mailbox's state changes (mailbox-cache.ts). The caller
 * ends an OpenMetrics exposition (`# EOF`), since this text is appended to prom-client's.
 */

/** A family's HELP and TYPE lines (a row of families.ts), written once before its samples. */
export function familyHeader({ name, type, help }: { name: string; type: 'gauge' | 'counter' | 'histogram'; help: string }, format: ExpositionFormat): string {
  // OpenMetrics names a counter's family without `_total`; its samples keep the suffix (as
  // prom-client writes it in that format). So only these lines differ between the two formats.
  const om = format === 'openmetrics';
  const familyName = om && type === 'counter' ? name.replace(/_total$/, '') : name;
  return `# HELP ${familyName} ${om ? escapeOpenMetricsHelp(help) : escapeHelp(help)}\n# TYPE ${familyName} ${type}\n`;
}

/** One sample line. `labels` is an already-escaped `a="x",b="y"` list (see `labels()`), may be empty. */
export function sampleLine(name: string, labels: string, value: number): string {
  return labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
}

/** `{ a: 'x' }` → `a="x"`, values escaped as the text format requires. */
export function labels(pairs: Record<string, string>): string {
  let out = '';
  for (const [k, v] of Object.entries(pairs)) out += `${out === '' ? '' : ','}${k}="${escapeLabel(v)}"`;
  return out;
}

export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** OpenMetrics escapes the double quote in HELP too (the text format 0.0.4 does not). */
function escapeOpenMetricsHelp(help: string): string {
  return escapeHelp(help).replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
