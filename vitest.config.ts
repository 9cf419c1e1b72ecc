import { defineConfig } from 'vitest/config';

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
        test: { name: 'mailsync', include: ['contract/src/**/*.test.ts', 'exporter/src/**/*.test.ts', 'alerts/src/**/*.test.ts', 'dashboards/src/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'panel',
          include: ['grafana-plugin/src/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['grafana-plugin/src/test/setup.ts'],
          // @grafana packages ship ESM that imports CSS and browser-only modules: let vite transform them.
          server: { deps: { inline: [/@grafana\//] } },
        },
      },
    ],
  },
});
