import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNBOOK_BASE_URL } from '@mailsync/contract';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The panel's build output is what Grafana's plugin loader reads from the plugins folder: the AMD
 * module, plugin.json with its placeholders filled, and every file plugin.json and the README
 * point at. Inspects grafana-plugin/dist as `npm run build` left it.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const plugin = path.join(repo, 'grafana-plugin');
const dist = path.join(plugin, 'dist');
const read = (file: string) => readFileSync(path.join(dist, file), 'utf8');

interface PluginJson {
  id: string;
  type: string;
  name: string;
  info: { version: string; updated: string; logos: { small: string; large: string }; screenshots: { name: string; path: string }[]; links: { name: string; url: string }[] };
  dependencies: { grafanaDependency: string };
}
let built: PluginJson;
let source: PluginJson;
const pkg = JSON.parse(readFileSync(path.join(plugin, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

beforeAll(() => {
  if (!existsSync(path.join(dist, 'plugin.json'))) throw new Error('grafana-plugin/dist/plugin.json is missing: run `npm run build` first');
  built = JSON.parse(read('plugin.json')) as PluginJson;
  source = JSON.parse(readFileSync(path.join(plugin, 'src/plugin.json'), 'utf8')) as PluginJson;
});

describe('the panel as built into grafana-plugin/dist', () => {
  it('holds the files a Grafana plugin folder has', () => {
    for (const file of ['module.js', 'plugin.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) expect(existsSync(path.join(dist, file)), file).toBe(true);
    // Grafana loads module.js as an AMD module (the create-plugin banner comes first).
    expect(read('module.js')).toMatch(/^(\/\*[^\n]*\*\/\s*)*define\(/);
    expect(read('LICENSE')).toBe(readFileSync(path.join(repo, 'LICENSE'), 'utf8'));
    expect(read('LICENSE')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  it('has plugin.json with the required fields filled', () => {
    expect(built.id).toBe(source.id);
    expect(built.id).toBe('mailsync-summary-panel');
    expect(built.type).toBe('panel');
    expect(built.name).toBe(source.name);
    expect(built.info.version).toBe(pkg.version);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(built.info.links).toContainEqual({ name: 'Runbook', url: RUNBOOK_BASE_URL });
    expect(read('plugin.json'), 'a placeholder was left unfilled').not.toMatch(/%[A-Z_]+%/);
  });

  it('asks for the Grafana whose packages it was built against', () => {
    // Grafana provides @grafana/data, ui and runtime at run time: the oldest Grafana the panel
    // accepts is the minor release of the packages it compiled against.
    const range = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(built.dependencies.grafanaDependency);
    expect(range, `grafanaDependency "${built.dependencies.grafanaDependency}" is not of the form >=X.Y.Z`).not.toBeNull();
    for (const name of ['@grafana/data', '@grafana/ui', '@grafana/runtime', '@grafana/schema']) {
      const [major, minor] = (pkg.dependencies[name] ?? '').split('.');
      expect(`${range![1]}.${range![2]}`, name).toBe(`${major}.${minor}`);
    }
  });

  it('ships every image that plugin.json and the README refer to', () => {
    const images = [built.info.logos.small, built.info.logos.large, ...built.info.screenshots.map((s) => s.path)];
    expect(built.info.screenshots.length).toBeGreaterThan(0);
    const readme = read('README.md');
    for (const [, ref] of readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) images.push(ref!);
    for (const image of images) expect(existsSync(path.join(dist, image)), image).toBe(true);
  });
});
