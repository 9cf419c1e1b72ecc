import http from 'node:http';
import https from 'node:https';
import { ClassifiedError } from '../classify/index.js';
import { tokenErrorCode, tokenErrorText, type TokenErrorBody } from '../classify/oauth.js';
import { readCa } from '../protocols/channel.js';

/** What a token endpoint issued (RFC 6749 5.1). */
export interface TokenResponse {
  accessToken: string;
  /** Seconds, as the endpoint said; absent means the endpoint did not say. */
  expiresIn: number | undefined;
  /** A new refresh token when the endpoint rotates them. */
  refreshToken: string | undefined;
}

export interface EndpointOptions {
  caFile: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Token responses are small; a huge one is not a token endpoint. */
const MAX_BODY = 256 * 1024;

/**
 * POSTs a form to a token endpoint and returns the token, or throws a ClassifiedError with the
 * endpoint's code (classify/oauth.ts) and its own words, never the request (it holds the secret).
 * node:https rather than fetch: fetch cannot be given a CA file without another dependency.
 */
export async function requestToken(url: string, body: URLSearchParams, options: EndpointOptions): Promise<TokenResponse> {
  const { status, text } = await post(url, body.toString(), options);
  const json = parseJson(text);
  const host = new URL(url).host;
  if (status !== 200) {
    const errorBody = json as TokenErrorBody | undefined;
    throw new ClassifiedError(tokenErrorCode(status, errorBody), `token endpoint ${host} refused: ${tokenErrorText(status, errorBody)}`);
  }
  const t = json as { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown } | undefined;
  if (typeof t?.access_token !== 'string' || t.access_token === '') {
    throw new ClassifiedError('protocol_error', `token endpoint ${host} answered 200 without an access_token`);
  }
  const expiresIn = Number(t.expires_in);
  return {
    accessToken: t.access_token,
    expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
    refreshToken: typeof t.refresh_token === 'string' && t.refresh_token !== '' ? t.refresh_token : undefined,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function post(url: string, form: string, options: EndpointOptions): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const host = target.host;
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'content-length': Buffer.byteLength(form) },
      ...(target.protocol === 'https:' ? { minVersion: 'TLSv1.2' as const, ...(options.caFile ? { ca: readCa(options.caFile) } : {}) } : {}),
      timeout: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) request.destroy(new ClassifiedError('protocol_error', `token endpoint ${host} sent more than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new ClassifiedError('connect_failed', `token endpoint ${host} did not answer within ${options.timeoutMs / 1_000} s`)));
    request.on('error', (error: NodeJS.ErrnoException) => reject(networkError(error, host, options.signal)));
    request.end(form);
  });
}

/** The network's failure in the taxonomy's words, naming the token endpoint (the mail server is not at fault). */
function networkError(error: NodeJS.ErrnoException, host: string, signal: AbortSignal | undefined): Error {
  if (error instanceof ClassifiedError) return error;
  if (signal?.aborted) return new DOMException('the runner is stopping', 'AbortError');
  const code = error.code ?? '';
  const why = `token endpoint ${host}: ${error.message}`;
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL'].includes(code)) return new ClassifiedError('dns_failed', why, { cause: error });
  if (/^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH)/.test(code)) {
    return new ClassifiedError('secure_connection_failed', why, { cause: error });
  }
  if (['ECONNRESET', 'EPIPE'].includes(code)) return new ClassifiedError('server_unavailable', why, { cause: error });
  return new ClassifiedError('connect_failed', why, { cause: error });
}
