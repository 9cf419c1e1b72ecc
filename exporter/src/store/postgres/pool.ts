import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { describeUrl } from './faults.js';

export type SslMode = 'disable' | 'require' | 'verify-full';

export interface PgSsl {
  mode: SslMode;
  /** PEM files: the CA that signed the server's certificate; a client certificate and key (optional). */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface PgConnectionOptions {
  url: string;
  ssl?: PgSsl | undefined;
  poolSize?: number | undefined;
  /** Shown in pg_stat_activity: which runner a session belongs to (`mailsync:<runner>`). */
  applicationName?: string | undefined;
  /**
   * B: the server ends a session idle inside a transaction for this long. Set to the lease period: a
   * runner paused mid fenced write (SIGSTOP, a long GC) holds its lease row FOR KEY SHARE, and without
   * this no other runner could take those mailboxes over until it woke.
   */
  idleInTransactionMs?: number | undefined;
}

/** bigint (int8) and numeric (sum, count) as JavaScript numbers: the store's values are epoch ms and counts, far below 2^53. */
const NUMBER_TYPES = new Set([20, 1700]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMBER_TYPES.has(oid) ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * TLS to the database. `require` encrypts without checking who answers (libpq's sslmode=require);
 * `verify-full` checks the certificate against `caFile` (or the system's CAs) and the host name.
 */
export function tlsOptions(ssl: PgSsl | undefined): ConnectionOptions | false {
  if (!ssl || ssl.mode === 'disable') return false;
  const files = {
    ...(ssl.caFile ? { ca: readFileSync(ssl.caFile, 'utf8') } : {}),
    ...(ssl.certFile ? { cert: readFileSync(ssl.certFile, 'utf8') } : {}),
    ...(ssl.keyFile ? { key: readFileSync(ssl.keyFile, 'utf8') } : {}),
  };
  return { ...files, rejectUnauthorized: ssl.mode === 'verify-full' };
}

/** What a client of the store's database connects with (the pool's clients and the feed listener). */
export function clientConfig(options: PgConnectionOptions): pg.ClientConfig {
  // The url's own sslmode would override `ssl` in pg; the config's ssl block is the one place it is set.
  const url = new URL(options.url);
  url.searchParams.delete('sslmode');
  return {
    connectionString: url.toString(), ssl: tlsOptions(options.ssl), types, application_name: options.applicationName ?? 'mailsync',
    ...(options.idleInTransactionMs !== undefined ? { idle_in_transaction_session_timeout: options.idleInTransactionMs } : {}),
  };
}

/**
 * The pool every query goes through. An idle client whose connection breaks (the server restarted,
 * pg_terminate_backend) emits 'error' on the pool: handled here, or Node would end the process. The
 * pool drops that client and opens a new one at the next query.
 */
export function openPool(options: PgConnectionOptions, onIdleError: (error: Error) => void): { pool: pg.Pool; where: string } {
  // TCP keepalive: a database host that vanished (half-open connection) fails its sessions
  // instead of leaving a cycle waiting on a socket that will never answer.
  // Pipelining (node-postgres' `pipeline`): a query issued while another is in flight on the same
  // client is sent at once, not when the first one's answer has been read. Every caller still awaits
  // its statements in turn; the transaction issues two at once where the second needs nothing of the
  // first (connection.ts: BEGIN with the fence check, the feed's statement with COMMIT).
  const pool = new pg.Pool({
    ...clientConfig(options), max: options.poolSize ?? 10, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, keepAlive: true,
    pipeline: true,
  });
  pool.on('error', onIdleError);
  // A client whose connection ends while checked out (terminated between the pool handing it out
  // and its first query) also emits 'error'; its query fails with the same error, which is where
  // it is reported. Without a listener here the event alone would end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, where: describeUrl(options.url) };
}
