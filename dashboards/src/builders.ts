/**
 * Small typed builders for the Grafana dashboard JSON model (schemaVersion 39): just the panel
 * kinds mailsync's dashboards use. Layout is computed: panels flow left to right in rows of 24.
 */
export interface Target {
  refId: string;
  expr: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table';
  legendFormat?: string;
}

export interface Panel {
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  options?: Record<string, unknown>;
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  transformations?: unknown[];
  links?: { title: string; url: string }[];
}

export interface Variable {
  name: string;
  label: string;
  type: 'datasource' | 'query' | 'custom' | 'textbox';
  query: string;
  includeAll?: boolean;
  multi?: boolean;
  current?: { text: string; value: string };
}

export const DS = { type: 'prometheus', uid: '${datasource}' };

export const target = (refId: string, expr: string, o: Omit<Target, 'refId' | 'expr'> = {}): Target => ({ refId, expr, range: !o.instant, ...o });
export const instant = (refId: string, expr: string): Target => target(refId, expr, { instant: true, range: false, format: 'table' });

type PanelInput = Omit<Panel, 'gridPos'> & { w: number; h: number };

export function timeseries(title: string, targets: Target[], o: { unit?: string; stack?: boolean; description?: string; w?: number; h?: number } = {}): PanelInput {
  return {
    type: 'timeseries', title, targets, w: o.w ?? 12, h: o.h ?? 8, ...(o.description ? { description: o.description } : {}),
    fieldConfig: { defaults: { unit: o.unit ?? 'short', custom: { stacking: { mode: o.stack ? 'normal' : 'none' }, fillOpacity: o.stack ? 60 : 10 } }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull'] }, tooltip: { mode: 'multi' } },
  };
}

export function stat(title: string, t: Target, o: { unit?: string; mappings?: unknown[]; thresholds?: { color: string; value: number | null }[]; w?: number; h?: number; description?: string } = {}): PanelInput {
  return {
    type: 'stat', title, targets: [t], w: o.w ?? 4, h: o.h ?? 4, ...(o.description ? { description: o.description } : {}),
    fieldConfig: {
      defaults: {
        unit: o.unit ?? 'short', mappings: o.mappings ?? [],
        thresholds: { mode: 'absolute', steps: o.thresholds ?? [{ color: 'green', value: null }] },
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', graphMode: 'none', textMode: 'auto' },
  };
}

export function table(title: string, targets: Target[], o: { w?: number; h?: number; description?: string; links?: { field: string; title: string; url: string }[]; exclude?: string[]; rename?: Record<string, string>; unit?: string } = {}): PanelInput {
  return {
    type: 'table', title, targets, w: o.w ?? 24, h: o.h ?? 8, ...(o.description ? { description: o.description } : {}),
    fieldConfig: {
      defaults: { unit: o.unit ?? 'short' },
      overrides: (o.links ?? []).map((l) => ({ matcher: { id: 'byName', options: l.field }, properties: [{ id: 'links', value: [{ title: l.title, url: l.url }] }] })),
    },
    transformations: [{ id: 'organize', options: { excludeByName: Object.fromEntries(['Time', '__name__', 'job', 'instance', ...(o.exclude ?? [])].map((k) => [k, true])), renameByName: o.rename ?? {} } }],
    options: { showHeader: true, cellHeight: 'sm' },
  };
}

export function text(title: string, content: string, o: { w?: number; h?: number } = {}): PanelInput {
  return { type: 'text', title, w: o.w ?? 24, h: o.h ?? 3, options: { mode: 'markdown', content } };
}

/** Places panels left to right, wrapping at 24 columns; each row is as tall as its tallest panel. */
export function layout(panels: PanelInput[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map(({ w, h, ...p }) => {
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...p, datasource: DS, gridPos: { x, y, w, h } } as Panel;
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return placed;
  });
}

export function variable(v: Variable): Record<string, unknown> {
  const base = { name: v.name, label: v.label, type: v.type, hide: 0, skipUrlSync: false };
  if (v.type === 'datasource') return { ...base, query: v.query, current: { text: 'Prometheus', value: 'prometheus' } };
  if (v.type === 'custom') {
    const options = v.query.split(',').map((s) => ({ text: s, value: s, selected: false }));
    return { ...base, query: v.query, options, includeAll: v.includeAll ?? false, multi: v.multi ?? false, current: v.current ?? { text: 'All', value: '$__all' } };
  }
  if (v.type === 'textbox') return { ...base, query: v.query, current: v.current ?? { text: v.query, value: v.query } };
  return {
    ...base, datasource: DS, query: { query: v.query, refId: `${v.name}-query` }, definition: v.query, refresh: 2, sort: 1,
    includeAll: v.includeAll ?? false, multi: v.multi ?? false, ...(v.current ? { current: v.current } : {}),
  };
}

export interface DashboardInput {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Variable[];
  panels: PanelInput[];
  links: { title: string; url: string; icon?: string }[];
}

export function dashboard(d: DashboardInput): Record<string, unknown> {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: d.tags,
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    templating: { list: d.variables.map(variable) },
    links: d.links.map((l) => ({ type: 'link', title: l.title, url: l.url, icon: l.icon ?? 'dashboard', targetBlank: false, keepTime: true, includeVars: false, asDropdown: false, tags: [], tooltip: '' })),
    annotations: { list: [] },
    panels: layout(d.panels).map((p, i) => ({ id: i + 1, ...p })),
  };
}

/** Every PromQL expression of a generated dashboard, for the tests that check them on a real Prometheus. */
export function expressions(dash: Record<string, unknown>): string[] {
  const panels = dash.panels as Panel[];
  const fromPanels = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const fromVars = ((dash.templating as { list: { type: string; definition?: string }[] }).list)
    .filter((v) => v.type === 'query' && v.definition).map((v) => v.definition as string);
  return [...fromPanels, ...fromVars];
}
