import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit` (with `unit-panel`, the panel's tests in jsdom) needs nothing but Node and
 * node_modules; `integration` needs the Debian packages .ci/run installs: it starts Dovecot,
 * dnsmasq, Prometheus, Alertmanager and Chromium, and runs promtool, amtool and openssl. A test
 * file goes by what it spawns, wherever it lives: alerts/src/alerts.test.ts runs promtool and
 * amtool, so it is an integration test.
 */
const integration = ['test/integration/**/*.test.ts', 'alerts/src/**/*.test.ts'];

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
          include: ['exporter/src/**/*.test.ts', 'dashboards/src/**/*.test.ts', 'contract/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...integration],
        },
      },
      {
        extends: true,
        // A project of its own because vitest 4 sets the environment and setup files per project
        // (or by a comment in each test file), and the setup file needs a DOM.
        test: {
          name: 'unit-panel',
          include: ['grafana-plugin/src/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
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
