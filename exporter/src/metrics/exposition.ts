import type { ExpositionFormat } from './format.js';

/**
 * A minimal writer of the Prometheus text format (version 0.0.4) or OpenMetrics 1.0 for the
 * per-mailbox state families. prom-client's labelled gauges cost an object per series plus a
 * label-escaping pass on every scrape; the fleet state is re-read from the store on every scrape
 * anyway, so it is written straight to text, with each mailbox's label prefix escaped once. The
 * caller ends an OpenMetrics exposition (`# EOF`), since this text is appended to prom-client's.
 */
export class TextWriter {
  // One growing string: V8 appends to it as a rope, cheaper than a 100,000-element join.
  #text = '';
  #series = 0;
  readonly #format: ExpositionFormat;

  constructor(format: ExpositionFormat = 'prometheus') {
    this.#format = format;
  }

  /** Starts a metric family (a row of families.ts): HELP and TYPE lines, once before its samples. */
  family({ name, type, help }: { name: string; type: 'gauge' | 'counter'; help: string }): void {
    // OpenMetrics names a counter's family without `_total`; its samples keep the suffix (as
    // prom-client writes it in that format).
    const om = this.#format === 'openmetrics';
    const familyName = om && type === 'counter' ? name.replace(/_total$/, '') : name;
    this.#text += `# HELP ${familyName} ${om ? escapeOpenMetricsHelp(help) : escapeHelp(help)}\n# TYPE ${familyName} ${type}\n`;
  }

  /** One sample. `labels` is an already-escaped `a="x",b="y"` list (see `labels()`), may be empty. */
  sample(name: string, labels: string, value: number): void {
    this.#text += labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
    this.#series += 1;
  }

  get series(): number {
    return this.#series;
  }

  toString(): string {
    return this.#text;
  }
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
