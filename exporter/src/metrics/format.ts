import { Registry, type RegistryContentType } from 'prom-client';

/**
 * The two exposition formats /metrics serves: the Prometheus text format (0.0.4), the default,
 * and OpenMetrics 1.0, chosen by the scraper's Accept header (Prometheus asks for OpenMetrics
 * first). They differ, for what mailsync writes, in three places: a counter's family is named
 * without `_total` on its HELP and TYPE lines (its samples keep it), there are no blank lines,
 * and the exposition ends with `# EOF`.
 */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/**
 * The media types to offer to content negotiation (Express' `req.accepts`), the default first.
 * With their versions: an Accept entry with parameters (Prometheus sends
 * `application/openmetrics-text;version=1.0.0`) only matches an offer with the same ones.
 */
export const OFFERED_MEDIA_TYPES = ['text/plain; version=0.0.4', 'application/openmetrics-text; version=1.0.0'] as const;

export function formatOfMediaType(type: string | false): ExpositionFormat {
  return type === OFFERED_MEDIA_TYPES[1] ? 'openmetrics' : 'prometheus';
}

export const OPENMETRICS_EOF = '# EOF\n';

/**
 * prom-client's part of the exposition in `format`, written from `registry` (which stays in the
 * text format). For OpenMetrics its metrics are lent to a registry of that format (`merge` shares
 * the metric objects). That registry's `metrics()` renames each counter in place, dropping
 * `_total` for good, which would break every later text-format scrape (prometheus/client_js PR
 * #829 describes it): the names are put back at once, before anything else can run. prom-client
 * reads every name before its first await, as long as no counter's `collect` is async (none is).
 */
export function registryText(registry: Registry, format: ExpositionFormat): Promise<string> {
  if (format === 'prometheus') return registry.metrics();
  const lent: Registry<RegistryContentType> = Registry.merge([registry]);
  lent.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const metrics = lent.getMetricsAsArray();
  const names = metrics.map((m) => m.name);
  const text = lent.metrics();
  metrics.forEach((m, i) => {
    m.name = names[i] as string;
  });
  return text;
}
