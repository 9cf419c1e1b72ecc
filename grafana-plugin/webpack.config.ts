// The panel's build: @grafana/create-plugin's managed configuration (.config/, refreshed by
// `npx @grafana/create-plugin@latest update`, never edited here), extended the way its
// .config/README.md describes, with only what mailsync adds on top.
import ReplaceInFileWebpackPlugin from 'replace-in-file-webpack-plugin';
import type { Configuration } from 'webpack';
import { merge } from 'webpack-merge';
import { RUNBOOK_BASE_URL } from '@mailsync/contract';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';
import { DIST_DIR } from './.config/bundler/constants';

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return merge(base, {
    plugins: [
      new ReplaceInFileWebpackPlugin([
        // The runbook link comes from the contract, so the panel and the alerts name one runbook.
        { dir: DIST_DIR, files: ['plugin.json'], rules: [{ search: /%RUNBOOK_URL%/g, replace: RUNBOOK_BASE_URL }] },
        // The README shows its images from src/img/ in the repository; in dist they sit in img/.
        { dir: DIST_DIR, files: ['README.md'], rules: [{ search: /\(src\/img\//g, replace: '(img/' }] },
      ]),
    ],
  });
};

export default config;
