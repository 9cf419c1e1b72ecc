/**
 * The sources the guard reads: the components' code, tests, scripts and demo, not generated output
 * (alerts/rules, dashboards/generated, dist), docs or installed packages. Test-only I/O.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const SCANNED = [
  'exporter/src', 'exporter/scripts', 'exporter/bin', 'alerts/src', 'alerts/scripts', 'dashboards/src', 'dashboards/scripts', 'mixin/src', 'mixin/scripts',
  'grafana-plugin/src', 'grafana-plugin/test', 'grafana-plugin/webpack.config.ts', 'test', 'demo',
];
const SOURCE = /\.(ts|tsx|js|mjs|cjs|json|ya?ml)$/;
const SKIPPED = /(^|\/)(node_modules|dist|tmp)(\/|$)/;

/** Repository-relative paths of the source files under `roots`, sorted. */
export function sourceFiles(root: string, roots: readonly string[] = SCANNED): string[] {
  return roots.flatMap((r) => {
    const abs = path.join(root, r);
    if (!statSync(abs, { throwIfNoEntry: false })) return [];
    if (statSync(abs).isFile()) return [r];
    return (readdirSync(abs, { recursive: true }) as string[]).map((f) => path.posix.join(r, f.split(path.sep).join('/')));
  }).filter((f) => SOURCE.test(f) && !SKIPPED.test(f) && statSync(path.join(root, f)).isFile()).sort();
}

export const readSource = (root: string, file: string): string => readFileSync(path.join(root, file), 'utf8');
