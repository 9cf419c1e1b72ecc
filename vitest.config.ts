import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['exporter/src/**/*.test.ts', 'alerts/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real Dovecot servers; each file owns its own, so files may run in
    // parallel, but two cores are all we have.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
