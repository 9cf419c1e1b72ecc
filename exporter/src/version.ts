import { readFileSync } from 'node:fs';

/**
 * The exporter package's version, read once from its package.json: the one place it is written
 * (`npm version` changes it there). `mailsync --version` and `mailsync_build_info{version}` both
 * take it from here; the path works from src/ and dist/ alike, and the image ships the file.
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
