import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestApp } from '../../../test/support/app.js';
import { parseConfig } from '../config/index.js';
import { EmailOperations } from '../mailboxes/emails.js';
import { MailboxOperations } from '../mailboxes/operations.js';
import { listen, type Listening } from '../service/listen.js';
import { openStore } from '../store/index.js';
import { createApi } from './api.js';
import { FailedAuthLimiter } from './auth-failures.js';
import { BasicAuthVerifier, basicCredentials } from './basic-auth.js';
import { clientCertProblem } from './client-cert.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { loadWebConfig } from './web-config.js';
import { webGate } from './web-gate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.join(here, 'testdata/web-config', name);

describe('web config file', () => {
  it('reads users and headers', () => {
    const web = loadWebConfig(fixture('basic-auth.good.yml'));
    expect([...web.users.keys()]).toEqual(['prometheus']);
    expect(web.headers).toEqual({ 'X-Frame-Options': 'sameorigin' });
    expect(web.tls).toBeUndefined();
  });

  it('names every wrong key and value', () => {
    let message = '';
    try {
      loadWebConfig(fixture('bad-keys.bad.yml'));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('rate_limit: not supported');
    expect(message).toContain('extra: unknown key');
    expect(message).toContain('tls_server_config.client_auth_type: unknown client_auth_type "RequireSomeCert"');
    expect(message).toContain('tls_server_config.min_version: unknown TLS version "TLS14"');
    expect(message).toContain('http_server_config.headers.X-Powered-By: this header cannot be set');
    expect(message).toContain('http_server_config.headers.X-Content-Type-Options: must be one of nosniff');
    expect(message).toContain('basic_auth_users.prometheus: must be a bcrypt hash');
  });
});

describe('basic auth', () => {
  it('decodes credentials and refuses other schemes', () => {
    expect(basicCredentials(`Basic ${Buffer.from('u:p:q').toString('base64')}`)).toEqual({ user: 'u', password: 'p:q' });
    expect(basicCredentials('Bearer abc')).toBeUndefined();
  });

  it('verifies against the hash and remembers only successes', async () => {
    const users = loadWebConfig(fixture('basic-auth.good.yml')).users;
    const verifier = new BasicAuthVerifier();
    expect(await verifier.verify(users, 'prometheus', 'wrong')).toBe(false);
    expect(await verifier.verify(users, 'nobody', 'scrape-secret')).toBe(false);
    expect(await verifier.verify(users, 'prometheus', 'scrape-secret')).toBe(true);
    // A reloaded file with another hash for the user: the remembered success no longer applies.
    expect(await verifier.verify(new Map([['prometheus', '$2b$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa']]), 'prometheus', 'scrape-secret')).toBe(false);
  });
});

describe('failed authentication budget', () => {
  it('allows a burst, then answers limited with a Retry-After, refilled by time; other addresses unaffected', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ burst: 2, perMinute: 2, maxAddresses: 3 }, { now: () => now });
    expect(limiter.fail('10.0.0.1').limited).toBe(false);
    expect(limiter.fail('10.0.0.1').limited).toBe(false);
    expect(limiter.fail('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 30, first: true });
    expect(limiter.fail('10.0.0.1')).toMatchObject({ limited: true, first: false });
    expect(limiter.fail('10.0.0.2').limited).toBe(false);
    now += 30_000;
    expect(limiter.fail('10.0.0.1').limited).toBe(false);
    for (const a of ['a', 'b', 'c', 'd']) limiter.fail(a);
    expect(limiter.size).toBe(3);
  });
});

describe('client certificates', () => {
  it('applies client_auth_type and client_allowed_sans', () => {
    expect(clientCertProblem({ clientAuth: 'RequireAnyClientCert' }, false, false, undefined)).toMatch(/no client certificate/);
    expect(clientCertProblem({ clientAuth: 'RequireAnyClientCert' }, true, false, undefined)).toBeUndefined();
    expect(clientCertProblem({ clientAuth: 'VerifyClientCertIfGiven' }, false, false, undefined)).toBeUndefined();
    expect(clientCertProblem({ clientAuth: 'VerifyClientCertIfGiven' }, true, false, undefined)).toMatch(/not signed/);
    expect(clientCertProblem({ clientAuth: 'RequestClientCert' }, true, false, undefined)).toBeUndefined();
    const sans = { clientAuth: 'RequireAndVerifyClientCert' as const, allowedSans: ['prometheus.example'] };
    expect(clientCertProblem(sans, true, true, 'DNS:prometheus.example, IP Address:127.0.0.1')).toBeUndefined();
    expect(clientCertProblem(sans, true, true, 'DNS:other.example')).toMatch(/client_allowed_sans/);
  });
});

describe('the app with the web gate', () => {
  it('asks for basic auth on /metrics, the status page and /api, not on the probes, and limits wrong guesses', async () => {
    const { app } = await openTestApp();
    const web = loadWebConfig(fixture('basic-auth.good.yml'));
    const warnings: Record<string, unknown>[] = [];
    const logger = { warn: (o: Record<string, unknown>) => void warnings.push(o), error: () => undefined };
    const gated = webGate(app, { web: () => web, verifier: new BasicAuthVerifier(), failures: new FailedAuthLimiter({ burst: 2, perMinute: 1, maxAddresses: 10 }, { now: () => 0 }), logger });
    for (const p of ['/metrics', '/', '/api/mailboxes']) {
      const r = await request(gated).get(p);
      expect(r.status, p).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic');
    }
    expect((await request(gated).get('/-/healthy')).status).toBe(200);
    const right = await request(gated).get('/metrics').auth('prometheus', 'scrape-secret');
    expect(right.status).toBe(200);
    expect(right.headers['x-frame-options']).toBe('sameorigin');
    expect((await request(gated).get('/metrics').auth('prometheus', 'x')).status).toBe(401);
    expect((await request(gated).get('/metrics').auth('prometheus', 'y')).status).toBe(401);
    const limited = await request(gated).get('/metrics').auth('prometheus', 'z');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect((await request(gated).get('/metrics').auth('prometheus', 'scrape-secret')).status).toBe(200);
    expect(JSON.stringify(warnings)).not.toMatch(/scrape-secret|"x"|"y"|"z"/);
    expect(warnings.map((w) => w.client)).toContain('127.0.0.1');
    // The API's token rides in X-Mailsync-Token when basic auth holds the Authorization header.
    expect((await request(gated).get('/api/mailboxes').auth('prometheus', 'scrape-secret').set('x-mailsync-token', 'operator-token-0123456789')).status).toBe(200);
    expect((await request(gated).get('/api/mailboxes').auth('prometheus', 'scrape-secret')).status).toBe(401);
  });
});

describe('security headers', () => {
  it('allows exactly the inline style of the status page and nothing else', async () => {
    const { app } = await openTestApp();
    const page = await request(app).get('/');
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const style = /<style>([\s\S]*?)<\/style>/.exec(page.text)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(page.text).not.toMatch(/<script|style="/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
  });
});

describe('API authentication failures', () => {
  it('answers 429 with Retry-After after a few unknown tokens from one address, logs no token; a right token still works', async () => {
    const config = parseConfig(`organization: { id: acme }
api: { tokens: [{ name: alice, role: operator, token: "\${T}" }] }
profiles: [{ id: plain, incoming: { host: imap.example.com } }]
mailboxes: [{ id: ann, address: ann@example.com, profile: plain, credentials: { username: ann, password: "\${T}" } }]
`, '/etc/mailsync.yaml', { env: { T: 'operator-token-0123456789' } });
    const store = await openStore({ path: ':memory:' });
    const clock = { now: () => 0 };
    const operations = new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
    const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
    const warnings: Record<string, unknown>[] = [];
    const failures = new FailedAuthLimiter({ burst: 3, perMinute: 3, maxAddresses: 10 }, clock);
    const app = express().use('/api', createApi({ operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => 1_000, failures, logger: { warn: (o: Record<string, unknown>) => void warnings.push(o) } }));
    const codes: number[] = [];
    for (let i = 0; i < 5; i += 1) codes.push((await request(app).get('/api/mailboxes').set('authorization', `Bearer guess-${i}`)).status);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    const limited = await request(app).get('/api/mailboxes').set('authorization', 'Bearer guess-9');
    expect(limited.headers['retry-after']).toBe('20');
    expect(limited.body.error).toMatch(/too many failed authentications/);
    expect((await request(app).get('/api/mailboxes').set('authorization', 'Bearer operator-token-0123456789')).status).toBe(200);
    // A missing token is not a guess: it spends nothing and logs nothing.
    expect((await request(app).get('/api/mailboxes')).status).toBe(401);
    expect(warnings).toHaveLength(4);
    expect(JSON.stringify(warnings)).not.toContain('guess-');
    expect(warnings[0]).toMatchObject({ client: expect.stringContaining('127.0.0.1'), method: 'GET', path: '/api/mailboxes' });
    await store.close();
  });
});

let open: Listening | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describe('slow clients', () => {
  it('answers 408 to a client that does not finish its headers in time, and closes', async () => {
    open = await listen((_req, res) => res.end('ok'), '127.0.0.1:0', { timeouts: { headersMs: 200, requestMs: 400, checkEveryMs: 50 } });
    const { port } = new URL(open.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'));
      let text = '';
      socket.on('data', (c) => { text += c.toString(); });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 [\s\S]*did not arrive in time/);
  });
});
