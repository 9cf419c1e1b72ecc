import path from 'node:path';
import type { RawConfig, SecretInput } from './schema.js';
import type { Secret } from './secret.js';
import type { StorePostgresql } from './types.js';

/** A: `store.postgresql` resolved (url read as a secret, TLS files relative to the config); required with driver postgresql. */
export function resolvePostgresql(raw: RawConfig, baseDir: string, secret: (input: SecretInput, where: string) => Secret, problems: string[]): StorePostgresql | undefined {
  const pg = raw.store.postgresql;
  if (pg.url === undefined) {
    if (raw.store.driver === 'postgresql') problems.push('store.postgresql.url: required with store.driver postgresql (e.g. url: "${MAILSYNC_DATABASE_URL}")');
    return undefined;
  }
  const ssl: StorePostgresql['ssl'] = { mode: pg.ssl.mode };
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const value = pg.ssl[key];
    if (value !== undefined) ssl[key] = path.resolve(baseDir, value);
  }
  if (ssl.mode === 'disable' && (ssl.caFile || ssl.certFile || ssl.keyFile)) {
    problems.push('store.postgresql.ssl.mode: is disable, but caFile/certFile/keyFile are set (use require or verify-full)');
  }
  const url = secret(pg.url, 'store.postgresql.url');
  if (url.source !== 'invalid' && !/^postgres(ql)?:\/\//.test(url.reveal())) {
    problems.push('store.postgresql.url: must be a postgresql:// connection string');
  }
  return { url, ssl, poolSize: pg.poolSize };
}
