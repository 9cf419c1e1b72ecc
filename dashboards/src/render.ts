import { DASHBOARDS } from './dashboards.js';

/** The committed JSON of each dashboard, by file name: stable key order, two-space indent. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([name, build]) => [name, `${JSON.stringify(build(), null, 2)}\n`]));
}
