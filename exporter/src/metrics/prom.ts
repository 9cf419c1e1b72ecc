import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { family, type FamilyName, type FamilyOf, type NameOf } from './families.js';

/**
 * prom-client metrics built from their row of families.ts: name, help and label names come from
 * the table, and the type parameter only admits families of that type (a Counter cannot be made
 * for a gauge family).
 */
type LabelOf<N extends FamilyName> = FamilyOf<N>['labels'][number];

function options<N extends FamilyName>(registry: Registry, name: N) {
  const f = family(name);
  return { name: f.name, help: f.help, labelNames: f.labels as readonly LabelOf<N>[], registers: [registry] };
}

export function counter<N extends NameOf<'counter'>>(registry: Registry, name: N): Counter<LabelOf<N>> {
  return new Counter(options(registry, name));
}

/** `collect` runs at each scrape, just before the family is serialised. */
export function gauge<N extends NameOf<'gauge'>>(registry: Registry, name: N, collect?: (this: Gauge<LabelOf<N>>) => void): Gauge<LabelOf<N>> {
  return new Gauge({ ...options(registry, name), ...(collect ? { collect } : {}) });
}

export function histogram<N extends NameOf<'histogram'>>(registry: Registry, name: N, buckets: number[]): Histogram<LabelOf<N>> {
  return new Histogram({ ...options(registry, name), buckets });
}
