import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../config/index.js';
import type { OptionTable } from './options.js';
import { UsageError } from './usage-error.js';

// The commands that talk to a running service (mailboxes, send) do it through this one client:
// where the service is, which token, JSON both ways, and how a failure is printed.

/** Where a command's lines go; injected so tests can read them. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The options every API command takes, documented once. */
export const API_OPTIONS = {
  url: { type: 'string', value: 'URL', description: "the runner's base URL", default: `$MAILSYNC_URL, else http://${DEFAULTS.listen}` },
  'token-file': { type: 'string', value: 'F', description: 'file holding the API token', default: '$MAILSYNC_TOKEN holds the token' },
  json: { type: 'boolean', description: "print the API's JSON instead of text" },
} as const satisfies OptionTable;

export interface ApiTarget {
  url: string | undefined;
  tokenFile: string | undefined;
}

export function apiTarget(values: { url?: string; 'token-file'?: string }): ApiTarget {
  return { url: values.url, tokenFile: values['token-file'] };
}

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/**
 * One request to the runner's admin API, with the token from --token-file or MAILSYNC_TOKEN.
 * Returns the JSON body, or undefined after printing why it failed.
 */
export async function callApi(target: ApiTarget, request: ApiRequest, io: CliIo, command: string): Promise<Record<string, unknown> | undefined> {
  const base = (target.url ?? io.env.MAILSYNC_URL ?? `http://${DEFAULTS.listen}`).replace(/\/+$/, '');
  const token = target.tokenFile !== undefined ? readToken(target.tokenFile, command) : io.env.MAILSYNC_TOKEN;
  if (!token) throw new UsageError(`${command}: no API token: set MAILSYNC_TOKEN or pass --token-file FILE`);
  const { url, auth } = splitCredentials(`${base}${request.path}`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method,
      // One request per process: a kept-alive socket would hold the process open for seconds after.
      headers: { ...auth(token), connection: 'close', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    io.err(`mailsync: cannot reach ${base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
    return undefined;
  }
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status} without a JSON body` })) as Record<string, unknown>;
  if (!response.ok) {
    io.err(`mailsync: ${response.status} ${String(body.error ?? response.statusText)}`);
    return undefined;
  }
  return body;
}

/**
 * https://user:password@host/ means the runner's web config asks for basic auth: it takes the
 * Authorization header, and the token travels in X-Mailsync-Token. fetch refuses URLs with
 * credentials, so they are taken out of it.
 */
function splitCredentials(text: string): { url: string; auth: (token: string) => Record<string, string> } {
  const url = new URL(text);
  if (url.username === '' && url.password === '') return { url: text, auth: (token) => ({ authorization: `Bearer ${token}` }) };
  const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  url.username = '';
  url.password = '';
  return { url: url.toString(), auth: (token) => ({ authorization: `Basic ${basic}`, 'x-mailsync-token': token }) };
}

function readToken(file: string, command: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`${command}: cannot read --token-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
