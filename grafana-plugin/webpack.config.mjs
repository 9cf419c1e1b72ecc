// Builds the panel the way @grafana/create-plugin does: webpack + swc, an AMD module whose
// Grafana and React imports are provided by Grafana at run time, plugin.json and assets copied to
// dist/ with the version, the date and the runbook link (from @mailsync/contract) filled in.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNBOOK_BASE_URL } from '@mailsync/contract';
import CopyWebpackPlugin from 'copy-webpack-plugin';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const pluginId = JSON.parse(readFileSync(path.join(here, 'src/plugin.json'), 'utf8')).id;
const today = new Date().toISOString().slice(0, 10);

export default (_env, argv) => ({
  mode: argv.mode ?? 'production',
  context: path.join(here, 'src'),
  entry: { module: './module.ts' },
  devtool: argv.mode === 'development' ? 'eval-source-map' : 'source-map',
  output: {
    path: path.join(here, 'dist'),
    filename: '[name].js',
    library: { type: 'amd' },
    publicPath: `public/plugins/${pluginId}/`,
    clean: true,
    uniqueName: pluginId,
  },
  externals: [
    'react', 'react-dom', '@grafana/data', '@grafana/ui', '@grafana/runtime', '@grafana/schema', '@emotion/css', '@emotion/react',
    'lodash', 'rxjs', 'moment', 'i18next',
  ],
  resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
  module: {
    rules: [{
      test: /\.[tj]sx?$/,
      exclude: /node_modules/,
      use: {
        loader: 'swc-loader',
        options: { jsc: { target: 'es2020', parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } } } },
      },
    }],
  },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: 'plugin.json', to: '.', transform: (content) => content.toString().replaceAll('%VERSION%', pkg.version).replaceAll('%TODAY%', today).replaceAll('%RUNBOOK_URL%', RUNBOOK_BASE_URL) },
        // The README links its screenshot as src/img/ in the repository; in dist it sits in img/.
        { from: '../README.md', to: '.', transform: (content) => content.toString().replaceAll('src/img/', 'img/') },
        { from: '../CHANGELOG.md', to: '.' },
        { from: 'img', to: 'img' },
      ],
    }),
  ],
  performance: { hints: false },
});
