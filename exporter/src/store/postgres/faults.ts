import { StoreUnavailableError } from '../errors.js';

/** Node's socket errors: the database's host refused, reset or never answered. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `error` says the database is out of reach rather than that this statement is wrong:
 * SQLSTATE class 08 (connection exception), 53 (insufficient resources), 57P01-57P03 (the server
 * shutting down, crashed, or not yet accepting connections), socket errors, and node-postgres's own
 * words for a connection that ended under it (those carry no code).
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^(08|53)/.test(code) || /^57P0[123]$/.test(code)) return true;
    // G: the server ended the session for idling in a transaction (a paused runner, docs/scaling.md).
    if (code === '25P03') return true;
  }
  // G: pg-pool's own words when no connection came within connectionTimeoutMillis (seen on a runner
  // continued after SIGSTOP: its waits had timed out during the pause; the cycle "crashed").
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed/i.test(error.message);
}

/** The code kept on the error: SQLSTATE or the socket's, else a stand-in for pg's code-less ends. */
function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'connection_ended';
}

/** Turns an unreachable database into StoreUnavailableError('unreachable'); anything else passes unchanged. */
export function storeFault(error: unknown, where: string): unknown {
  if (error instanceof StoreUnavailableError || !isUnreachable(error)) return error;
  return new StoreUnavailableError('unreachable', codeOf(error as Error), where, { cause: error });
}

/** Serialization failure and deadlock: the transaction lost a race and may simply run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/** host:port/database of a connection string, never its user or password: what errors and logs name. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgresql://${u.host}${u.pathname}`;
  } catch {
    return 'postgresql (unparsable url)';
  }
}
