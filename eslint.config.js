// Flat ESLint config: typescript-eslint's recommended rules over the whole repository.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // grafana-plugin/.config is create-plugin's managed build, replaced whole by its `update`: not ours to lint.
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'tmp/**', 'grafana-plugin/.config/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The store and every direction return promises: one not awaited is a write that may land
    // after its caller moved on, or an error nobody sees. Type-aware, so only where it matters.
    files: ['exporter/src/**/*.ts', 'test/**/*.ts', 'demo/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The CLI, scripts and benchmarks print their results to stdout on purpose.
    files: ['exporter/src/cli/**', 'exporter/scripts/**', 'alerts/scripts/**', 'dashboards/scripts/**', 'deploy/kubernetes/scripts/**', 'mixin/scripts/**', 'demo/**', 'test/bench/**', 'test/soak/**', 'test/panel/**', 'exporter/bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // The panel runs in the browser (and its tests in jsdom).
    files: ['grafana-plugin/**'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', HTMLCanvasElement: 'readonly', globalThis: 'readonly' },
    },
  },
);
