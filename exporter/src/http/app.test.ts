import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';

describe('createApp', () => {
  const registry = new Registry();
  new Counter({ name: 'mailsync_test_total', help: 'test', registers: [registry] }).inc(3);
  let reason: string | undefined = 'store is opening';
  const app = createApp({ metrics: { contentType: registry.contentType, scrape: () => registry.metrics() }, notReadyReason: () => reason });

  it('serves the registry in the Prometheus text format', async () => {
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('mailsync_test_total 3');
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
