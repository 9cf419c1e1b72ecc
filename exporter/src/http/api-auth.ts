import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiToken } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Actor } from '../mailboxes/operations.js';
import type { FailedAuthLimiter } from './auth-failures.js';

/**
 * The API's authentication: a known bearer token sets the actor (name and role) for the routes;
 * an unknown one is answered 401, and too many from one address 429.
 */
export function authenticate(tokens: () => ApiToken[], failures?: FailedAuthLimiter, logger?: Pick<Logger, 'warn'>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const presented = presentedToken(req);
    const found = presented === undefined ? undefined : findToken(tokens(), presented);
    if (found) {
      res.locals.actor = { name: found.name, role: found.role } satisfies Actor;
      next();
      return;
    }
    if (presented !== undefined) {
      // The audit of a failed attempt is a log line, not a store audit entry: it has no actor,
      // and an unauthenticated client must not be able to grow the store. The token is never logged.
      const client = req.socket.remoteAddress ?? 'unknown';
      const verdict = failures?.fail(client) ?? { limited: false };
      if (verdict.limited) {
        if (verdict.first) logger?.warn({ client, method: req.method, path: req.originalUrl }, 'API: too many unknown bearer tokens from this address, answering 429');
        res.set('Retry-After', String(verdict.retryAfterSeconds)).status(429).json({ error: `too many failed authentications from ${client}; retry after ${verdict.retryAfterSeconds} s` });
        return;
      }
      logger?.warn({ client, method: req.method, path: req.originalUrl }, 'API: unknown bearer token');
    }
    res.set('WWW-Authenticate', 'Bearer realm="mailsync"').status(401).json({
      error: presented === undefined ? 'missing bearer token (Authorization: Bearer <token>, or X-Mailsync-Token when Authorization carries basic auth)' : 'unknown bearer token',
    });
  };
}

/**
 * The bearer token: from `Authorization: Bearer`, or from X-Mailsync-Token when the web config's
 * basic auth occupies the Authorization header (one request cannot carry two schemes there).
 */
function presentedToken(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  const header = req.get('x-mailsync-token')?.trim();
  return bearer ?? (header ? header : undefined);
}

/** Compares digests in constant time, so response timing says nothing about a token's prefix. */
function findToken(tokens: ApiToken[], presented: string): ApiToken | undefined {
  const digest = createHash('sha256').update(presented).digest();
  let found: ApiToken | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(digest, createHash('sha256').update(t.token.reveal()).digest())) found = t;
  }
  return found;
}
