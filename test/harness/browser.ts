import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PLUGIN_DIST = path.join(root, 'grafana-plugin/dist');
export const FIXTURE = path.join(root, 'grafana-plugin/test/fixtures/prometheus.json');

/** The flags the environment notes give for Debian's Chromium in a container. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/**
 * The panel's browser harness: the test-only page (grafana-plugin/test/harness) bundled with the
 * real React and @grafana packages, the built dist/module.js, served on loopback, and headless
 * Chromium (playwright-core driving /usr/bin/chromium) with a fresh profile.
 */
export class PanelHarness {
  readonly page: Page;
  readonly #browser: BrowserContext;
  readonly #server: Server;
  readonly #dir: string;

  private constructor(page: Page, browser: BrowserContext, server: Server, dir: string) {
    this.page = page;
    this.#browser = browser;
    this.#server = server;
    this.#dir = dir;
  }

  static async start(): Promise<PanelHarness> {
    if (!existsSync(path.join(PLUGIN_DIST, 'module.js'))) throw new Error('grafana-plugin/dist/module.js is missing: run `npm run build` first');
    const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-panel-'));
    await build({
      entryPoints: [path.join(root, 'grafana-plugin/test/harness/entry.tsx')],
      bundle: true, format: 'iife', platform: 'browser', target: 'es2020', outfile: path.join(dir, 'harness.js'),
      define: { 'process.env.NODE_ENV': '"production"', global: 'window' }, minify: true, logLevel: 'error',
      loader: { '.svg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.png': 'dataurl' },
    });
    const files: Record<string, [string, string]> = {
      '/': [path.join(dir, 'index.html'), 'text/html'],
      '/harness.js': [path.join(dir, 'harness.js'), 'text/javascript'],
      '/module.js': [path.join(PLUGIN_DIST, 'module.js'), 'text/javascript'],
    };
    const index = '<!doctype html><html><head><meta charset="utf-8"><title>mailsync panel harness</title></head>'
      + '<body style="margin:16px"><div id="root"></div><script src="/harness.js"></script><script src="/module.js"></script></body></html>';
    const server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (!file) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', file[1]);
      res.end(req.url === '/' ? index : readFileSync(file[0]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A fresh profile per run, so nothing cached or remembered leaks between runs.
    const browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, viewport: { width: 960, height: 580 },
    });
    const page = browser.pages()[0] ?? await browser.newPage();
    // A missing element fails in seconds with its selector, not at the test's timeout.
    page.setDefaultTimeout(5_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction('"mailsyncHarness" in window');
    if (errors.length > 0) throw new Error(`the harness page failed: ${errors.join('; ')}`);
    return new PanelHarness(page, browser, server, dir);
  }

  /** Renders the recorded Prometheus answers, as of the time they were recorded. */
  async renderFixture(mode: 'light' | 'dark'): Promise<{ recordedAt: number; responses: Record<string, { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }> }> {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { recordedAt: string; responses: Record<string, { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }> };
    const recordedAt = Date.parse(fixture.recordedAt);
    // The function runs in the page, where `mailsyncHarness` is the harness's global.
    await this.page.evaluate(`mailsyncHarness.renderRecorded(${JSON.stringify(fixture.responses)}, ${recordedAt}, ${JSON.stringify(mode)})`);
    return { recordedAt, responses: fixture.responses };
  }

  async stop(): Promise<void> {
    await this.#browser.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
