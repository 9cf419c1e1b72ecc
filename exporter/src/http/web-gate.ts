import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { FailedAuthLimiter } from './auth-failures.js';
import { basicCredentials, type BasicAuthVerifier } from './basic-auth.js';
import type { WebConfig } from './web-config.js';

export interface WebGateDeps {
  /** The web config in force (a reload replaces it), or undefined without --web.config.file. */
  web: () => WebConfig | undefined;
  verifier: BasicAuthVerifier;
  failures: FailedAuthLimiter;
  logger: Pick<Logger, 'warn' | 'error'>;
}

/**
 * Liveness and readiness probes say nothing but "healthy"/"ready", and a Kubernetes probe cannot
 * carry a bcrypt-checked password comfortably: they stay open. Everything else (/metrics, the
 * status page, /api, POST /-/reload) needs the web config's basic auth when it has users.
 */
const OPEN_PATHS = new Set(['/-/healthy', '/-/ready']);

/**
 * The web config in front of the app, as exporter-toolkit puts it in front of an exporter's
 * handler: its response headers on every answer, then basic auth (401 with
 * `WWW-Authenticate: Basic`, or 429 once a client address has failed too often).
 */
export function webGate(handler: RequestListener, deps: WebGateDeps): RequestListener {
  return (req, res) => {
    const web = deps.web();
    if (!web) return handler(req, res);
    for (const [name, value] of Object.entries(web.headers)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (web.users.size === 0 || ((req.method === 'GET' || req.method === 'HEAD') && OPEN_PATHS.has(path))) return handler(req, res);
    const credentials = basicCredentials(req.headers.authorization);
    const checked = credentials ? deps.verifier.verify(web.users, credentials.user, credentials.password) : Promise.resolve(false);
    checked.then((ok) => {
      if (ok) handler(req, res);
      else refuse(req, res, deps, credentials ? 'wrong password or unknown user' : 'no basic-auth credentials');
    }, (error: unknown) => {
      deps.logger.error({ err: error }, 'basic authentication failed inside mailsync');
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error (logged by mailsync)\n');
    });
  };
}

function refuse(req: IncomingMessage, res: ServerResponse, deps: WebGateDeps, reason: string): void {
  const client = req.socket.remoteAddress ?? 'unknown';
  // No credentials at all is how every browser starts; only a wrong guess spends the budget.
  const verdict = reason.startsWith('no ') ? { limited: false as const } : deps.failures.fail(client);
  if (verdict.limited) {
    if (verdict.first) deps.logger.warn({ client, path: req.url, method: req.method }, 'basic authentication: too many failures from this address, answering 429');
    res.writeHead(429, { 'retry-after': String(verdict.retryAfterSeconds), 'content-type': 'text/plain; charset=utf-8' }).end('too many failed authentications from this address\n');
    return;
  }
  if (!reason.startsWith('no ')) deps.logger.warn({ client, path: req.url, method: req.method, reason }, 'basic authentication failed');
  res.writeHead(401, { 'www-authenticate': 'Basic', 'content-type': 'text/plain; charset=utf-8' }).end('Unauthorized\n');
}
