import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expressions } from './assemble.js';
import { DASHBOARDS, MAILBOX_UID, PERFORMANCE_UID } from './dashboards.js';
import { renderDashboards } from './render.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const generated = (name: string) => readFileSync(path.join(root, 'dashboards/generated', name), 'utf8');
const documented = new Set([...readFileSync(path.join(root, 'docs/metrics.md'), 'utf8').matchAll(/^\| `(mailsync_[a-z_]+)` \|/gm)].map((m) => m[1] as string));

/** Metric names in a PromQL expression (identifiers followed by a selector, a range or nothing). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(mailsync_[a-z_]+|up)\b/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, ''));
}

describe('dashboards as code', () => {
  it('are committed exactly as dashboards/src generates them (run `npm run dashboards:generate`)', () => {
    for (const [name, text] of Object.entries(renderDashboards())) expect(generated(name), name).toBe(text);
  });

  it('link only to dashboards that exist', () => {
    const uids = new Set(Object.values(DASHBOARDS).map((d) => d().uid as string));
    expect([...uids].sort()).toEqual([MAILBOX_UID, PERFORMANCE_UID].sort());
    for (const name of Object.keys(DASHBOARDS)) {
      const links = [...generated(name).matchAll(/\/d\/([A-Za-z0-9_-]+)/g)].map((m) => m[1]);
      expect(links.length, name).toBeGreaterThan(0);
      for (const uid of links) expect(uids.has(uid as string), `${name} links to /d/${uid}`).toBe(true);
    }
  });

  // The SDK wraps to a new row only once a row is full: a panel too wide for what is left would overhang.
  it('fit every panel inside the 24 columns of the grid', () => {
    for (const [name, build] of Object.entries(DASHBOARDS)) {
      for (const p of build().panels ?? []) expect((p.gridPos?.x ?? 0) + (p.gridPos?.w ?? 0), `${name}: ${p.title}`).toBeLessThanOrEqual(24);
    }
  });

  it('read only metrics of the contract (docs/metrics.md)', () => {
    for (const build of Object.values(DASHBOARDS)) {
      for (const expr of expressions(build())) {
        for (const name of metricNames(expr)) if (name !== 'up') expect(documented.has(name), `${name} in ${expr}`).toBe(true);
      }
    }
  });

  it('use the panel plugin by its id, with the queries its README names', () => {
    const pluginId = (JSON.parse(readFileSync(path.join(root, 'grafana-plugin/src/plugin.json'), 'utf8')) as { id: string }).id;
    const summary = DASHBOARDS['mailsync-performance.json']().panels?.find((p) => p.type === pluginId);
    expect(summary && 'targets' in summary ? summary.targets?.map((t) => (t as { refId?: string }).refId).sort() : undefined).toEqual(['disabled', 'enabled', 'error', 'failures', 'health', 'info', 'items', 'success', 'test']);
  });
});
