import express, { type Express, type Router } from 'express';
import type { Registry } from 'prom-client';

export interface AppDeps {
  registry: Registry;
  /** Why the runner is not ready, or undefined when it is. */
  notReadyReason: () => string | undefined;
  /** The admin API router, mounted at /api. */
  api?: Router;
}

/** The HTTP surface as an express app; the caller decides where it listens. */
export function createApp({ registry, notReadyReason, api }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  if (api) app.use('/api', api);

  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await registry.metrics();
      res.type(registry.contentType).send(body);
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
  app.get('/', (_req, res) => {
    res.type('html').send(
      '<!doctype html><html><head><meta charset="utf-8"><title>mailsync</title></head><body>' +
      '<h1>mailsync</h1><ul><li><a href="metrics">Metrics</a></li><li><a href="-/healthy">Health</a></li>' +
      '<li><a href="-/ready">Readiness</a></li></ul></body></html>',
    );
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}
