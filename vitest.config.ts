import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit` (the panel's component tests among them, in jsdom) needs nothing but Node and
 * node_modules; `integration` needs the Debian packages .ci/run installs: it starts Dovecot,
 * dnsmasq, Prometheus, Alertmanager and Chromium, and runs promtool, amtool and openssl. A test
 * file goes by what it spawns, wherever it lives: alerts/src/alerts.test.ts runs promtool and
 * amtool, mixin/src/mixin.test.ts jsonnet, so they are integration tests.
 */
const integration = ['test/integration/**/*.test.ts', 'alerts/src/**/*.test.ts', 'mixin/src/mixin.test.ts'];

export default defineConfig({
  test: {
    // Integration tests start real Dovecot servers; each file owns its own, so files may run in
    // parallel, but two cores are all we have.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['exporter/src/**/*.test.ts', 'dashboards/src/**/*.test.ts', 'deploy/**/*.test.ts', 'mixin/src/**/*.test.ts', 'contract/**/*.test.ts', 'test/**/*.test.ts', 'grafana-plugin/src/**/*.test.{ts,tsx}'],
          exclude: ['**/node_modules/**', '**/dist/**', ...integration],
          // The panel's tests (its code imports @grafana packages, which need a DOM) ask for jsdom in
          // their first line; the setup file's browser stand-ins apply only there.
          setupFiles: ['grafana-plugin/src/test/setup.ts'],
          // @grafana packages ship ESM that imports CSS and browser-only modules: let vite transform them.
          server: { deps: { inline: [/@grafana\//] } },
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: integration },
      },
    ],
  },
});
