import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, registryText, type ExpositionFormat } from '../metrics/format.js';
import { createApp } from './app.js';

describe('createApp', () => {
  const registry = new Registry();
  new Counter({ name: 'mailsync_test_total', help: 'test', registers: [registry] }).inc(3);
  let reason: string | undefined = 'store is opening';
  const asked: ExpositionFormat[] = [];
  const metrics = {
    contentType: (format: ExpositionFormat) => CONTENT_TYPES[format],
    scrape: (format: ExpositionFormat) => {
      asked.push(format);
      return registryText(registry, format);
    },
  };
  const app = createApp({ metrics, notReadyReason: () => reason });

  it('serves the registry in the Prometheus text format', async () => {
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('mailsync_test_total 3');
  });

  it('serves OpenMetrics to a scraper that prefers it, the text format to a browser', async () => {
    asked.length = 0;
    // The Accept header Prometheus sends.
    const prometheus = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const om = await request(app).get('/metrics').set('Accept', prometheus);
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.headers.vary).toBe('Accept');
    expect(om.text).toMatch(/# TYPE mailsync_test counter\nmailsync_test_total 3\n# EOF\n$/);
    const browser = await request(app).get('/metrics').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(browser.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const old = await request(app).get('/metrics').set('Accept', 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
    expect(old.text).toContain('# TYPE mailsync_test_total counter');
    expect(asked).toEqual(['openmetrics', 'prometheus', 'prometheus']);
  });

  it('reports health always and readiness only when ready', async () => {
    expect((await request(app).get('/-/healthy')).status).toBe(200);
    const notReady = await request(app).get('/-/ready');
    expect([notReady.status, notReady.text]).toEqual([503, 'mailsync is not ready: store is opening\n']);
    reason = undefined;
    expect((await request(app).get('/-/ready')).status).toBe(200);
  });

  it('answers 404 for anything else', async () => {
    expect((await request(app).get('/nope')).status).toBe(404);
  });
});
