import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { STATUS_CSS } from './status-style.js';

/**
 * The status page is server-rendered HTML with one inline style and no script, image, font or
 * frame. So the policy allows nothing but that style, by its hash (no 'unsafe-inline': an
 * injected <style> or <script> would not apply), the page's own GET form, and no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STATUS_CSS).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The same headers on every answer: harmless on JSON and metrics, and nothing can be forgotten. */
const HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * Set first, and only where not already set: the web config's http_server_config.headers (set in
 * front of the app) win, as the operator asked for them.
 */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  for (const [name, value] of Object.entries(HEADERS)) if (!res.hasHeader(name)) res.setHeader(name, value);
  next();
}
