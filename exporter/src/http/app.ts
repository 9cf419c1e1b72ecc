import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { formatOfMediaType, OFFERED_MEDIA_TYPES, type ExpositionFormat } from '../metrics/index.js';
import { describeRequestError } from './errors.js';
import { securityHeaders } from './security-headers.js';

export interface AppDeps {
  /** The exposition for /metrics (bytes: a large fleet's is served as encoded, not decoded and encoded again). */
  metrics: { contentType: (format: ExpositionFormat) => string; scrape: (format: ExpositionFormat) => Promise<string | Buffer> };
  /** Why the runner is not ready, or undefined when it is. */
  notReadyReason: () => string | undefined;
  /** Re-reads the config (POST /-/reload); resolves with the reason when it was rejected. */
  reload?: () => Promise<{ ok: true } | { ok: false; error: string }>;
  /** The admin API router, mounted at /api. */
  api?: Router;
  /** The HTML status pages (/, /mailboxes...); a plain index of links when absent. */
  status?: Router;
  /** Told of an error that is mailsync's own fault (answered 500 without details). */
  onError?: (error: unknown) => void;
}

/** The HTTP surface as an express app; the caller decides where it listens. */
export function createApp({ metrics, notReadyReason, reload, api, status, onError }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every response for an ETag: for a 10,000-mailbox scrape that is 8 MB of
  // SHA-1 per scrape, and nobody revalidates /metrics or API answers.
  app.set('etag', false);
  app.use(securityHeaders);
  if (api) app.use('/api', api);

  app.get('/metrics', async (req, res, next) => {
    try {
      // OpenMetrics when the scraper asks for it (Prometheus does, first); else, and for a
      // browser or curl, the text format.
      const format = formatOfMediaType(req.accepts([...OFFERED_MEDIA_TYPES]));
      const body = await metrics.scrape(format);
      res.vary('Accept').type(metrics.contentType(format)).send(body);
    } catch (error) {
      next(error);
    }
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('mailsync is healthy.\n');
  });
  app.get('/-/ready', (_req, res) => {
    const reason = notReadyReason();
    if (reason) res.status(503).type('text/plain').send(`mailsync is not ready: ${reason}\n`);
    else res.type('text/plain').send('mailsync is ready.\n');
  });
  if (reload) {
    // Prometheus' convention: POST re-reads the config file; a bad file is reported and not applied.
    app.post('/-/reload', async (_req, res, next) => {
      try {
        const result = await reload();
        if (result.ok) res.type('text/plain').send('config reloaded\n');
        else res.status(500).type('text/plain').send(`config not reloaded: ${result.error}\n`);
      } catch (error) {
        next(error);
      }
    });
  }
  if (status) app.use('/', status);
  else {
    app.get('/', (_req, res) => {
      res.type('html').send(
        '<!doctype html><html><head><meta charset="utf-8"><title>mailsync</title></head><body>' +
        '<h1>mailsync</h1><ul><li><a href="metrics">Metrics</a></li><li><a href="-/healthy">Health</a></li>' +
        '<li><a href="-/ready">Readiness</a></li></ul></body></html>',
      );
    });
  }
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  // Last: whatever failed anywhere is answered here, never by Express's default HTML page with
  // its stack trace. The API has its own JSON handler; this covers the rest.
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const known = describeRequestError(error, req);
    if (!known) onError?.(error);
    const { status, message } = known ?? { status: 500, message: 'internal error (logged by mailsync)' };
    if (req.originalUrl.startsWith('/api')) res.status(status).json({ error: message });
    else res.status(status).type('text/plain').send(`${message}\n`);
  });
  return app;
}
