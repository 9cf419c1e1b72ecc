import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { makeCert, type CertFiles } from './tls.js';

/**
 * A local OAuth2 authorization server on 127.0.0.1 over HTTPS (the harness certificate): the
 * three grants mailsync uses, opaque short-lived access tokens, refresh tokens that can rotate or
 * be revoked, consent that can be withheld, an outage (5xx, or connections dropped), and an RFC
 * 7662 introspection endpoint that Dovecot's oauth2 passdb and the SMTP lab ask.
 *
 * Error bodies replay the providers' documented shapes. Microsoft (a tenant path,
 * `/{tenant}/oauth2/v2.0/token`): `error`, `error_description` starting with the AADSTS code and
 * ending with trace and correlation ids and a timestamp, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id` (learn.microsoft.com, "Token Issuance Endpoint Errors" and the identity
 * platform's error-response reference). Google (`/token`): `error` and `error_description` only,
 * with Google's texts ("Token has been expired or revoked.", the domain-wide delegation refusal);
 * those texts are as Google's client libraries report them, which no stored page here confirmed.
 */
export class TokenService {
  readonly cert: CertFiles;
  readonly dir: string;
  port = 0;
  /** Every token request, in order: what the token-cost assertions count. */
  readonly requests: { grant: string; client: string; at: number }[] = [];
  /** Seconds an access token lives. */
  lifetimeSeconds = 3_600;
  /** Issue a new refresh token with every refresh (as Microsoft does), invalidating the old one. */
  rotateRefreshTokens = false;
  /** 'up'; '5xx' answers 503 with the provider's transient error; 'drop' closes connections without an answer. */
  mode: 'up' | '5xx' | 'drop' = 'up';
  /** The domain app-only tokens are valid for. */
  tenantDomain = 'lab.example';
  readonly #clients = new Map<string, { secret?: string; publicKey?: KeyObject; consented: boolean }>();
  readonly #serviceAccounts = new Map<string, { publicKey: KeyObject; consented: boolean }>();
  readonly #refresh = new Map<string, { user: string; client: string; live: boolean }>();
  readonly #access = new Map<string, { user: string | undefined; client: string; expiresAt: number }>();
  #server: Server;

  private constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'mailsync-tokens-'));
    // Dovecot's auth process (the dovecot user) reads the CA file for its introspection requests.
    chmodSync(this.dir, 0o755);
    this.cert = makeCert(this.dir, 'tokens');
    chmodSync(this.cert.cert, 0o644);
    this.#server = createServer({ key: readFileSync(this.cert.key), cert: readFileSync(this.cert.cert) }, (req, res) => {
      void this.#handle(req, res).catch((error: unknown) => json(res, 500, { error: 'server_error', error_description: String(error) }));
    });
  }

  static async start(): Promise<TokenService> {
    const service = new TokenService();
    await new Promise<void>((resolve) => service.#server.listen(0, '127.0.0.1', resolve));
    service.port = (service.#server.address() as AddressInfo).port;
    return service;
  }

  /** Microsoft's shape: https://HOST/{tenant}/oauth2/v2.0/token. */
  microsoftUrl(tenant = 'lab-tenant'): string {
    return `https://localhost:${this.port}/${tenant}/oauth2/v2.0/token`;
  }

  /** Google's shape: https://HOST/token. */
  get googleUrl(): string {
    return `https://localhost:${this.port}/token`;
  }

  /** For Dovecot: `%u` is the user logging in (an app-only token is valid for any mailbox of the tenant). */
  get introspectionUrl(): string {
    return `https://localhost:${this.port}/introspect`;
  }

  addClient(id: string, credential: { secret: string } | { publicKey: KeyObject }, consented = true): void {
    this.#clients.set(id, { ...credential, consented });
  }

  /** A Google service account with domain-wide delegation; returns its key file (JSON) as Google's console gives it. */
  addServiceAccount(email: string, consented = true): string {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#serviceAccounts.set(email, { publicKey, consented });
    return JSON.stringify({
      type: 'service_account', project_id: 'lab', private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), client_email: email, client_id: '1'.repeat(21),
      token_uri: this.googleUrl,
    });
  }

  setConsent(client: string, consented: boolean): void {
    const c = this.#clients.get(client) ?? this.#serviceAccounts.get(client);
    if (c) c.consented = consented;
  }

  /** A refresh token for `user` of `client`, as a delegated consent would leave. */
  issueRefreshToken(user: string, client: string): string {
    const token = `rt-${randomBytes(24).toString('base64url')}`;
    this.#refresh.set(token, { user, client, live: true });
    return token;
  }

  /** Revokes every refresh token of `user` (the user changed the password, an admin revoked sessions). */
  revokeRefreshTokens(user: string): void {
    for (const r of this.#refresh.values()) if (r.user === user) r.live = false;
  }

  /** Every access token issued so far expires now (the server will refuse them). */
  expireAccessTokens(): void {
    for (const a of this.#access.values()) a.expiresAt = 0;
  }

  /** Whether `token` is a live access token usable for `user`. */
  valid(token: string, user: string): boolean {
    const a = this.#access.get(token);
    return a !== undefined && a.expiresAt > Date.now() && (a.user === undefined || a.user === user);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = new URLSearchParams(await readBody(req));
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (url.pathname === '/introspect') {
      // RFC 7662: the token POSTed. The answer's username is the token's domain (its tenant): an
      // app-only token is valid for every mailbox of the tenant, as Exchange's application role is.
      const a = this.#access.get(body.get('token') ?? '');
      const live = a !== undefined && a.expiresAt > Date.now();
      json(res, 200, live ? { active: true, username: a.user?.split('@')[1] ?? this.tenantDomain, client_id: a.client } : { active: false });
      return;
    }
    const ms = url.pathname !== '/token';
    if (this.mode === 'drop') {
      this.requests.push({ grant: 'dropped', client: '', at: Date.now() });
      req.socket.destroy();
      return;
    }
    this.requests.push({ grant: body.get('grant_type') ?? '', client: body.get('client_id') ?? '', at: Date.now() });
    if (this.mode === '5xx') {
      json(res, 503, ms ? msError('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.') : { error: 'internal_failure', error_description: 'Backend Error' });
      return;
    }
    const grant = body.get('grant_type') ?? '';
    const answer = await this.#grant(grant, body, ms, `https://localhost:${this.port}${url.pathname}`);
    json(res, answer.status, answer.body);
  }

  async #grant(grant: string, body: URLSearchParams, ms: boolean, audience: string): Promise<{ status: number; body: object }> {
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') return this.#jwtBearer(body.get('assertion') ?? '', audience);
    const client = body.get('client_id') ?? '';
    const registered = this.#clients.get(client);
    if (!registered || !(await this.#clientAuthenticated(registered, body, audience))) {
      return { status: 401, body: ms ? msError('invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app \'' + client + '\'.') : { error: 'invalid_client', error_description: 'Unauthorized' } };
    }
    if (!registered.consented) {
      return { status: 400, body: ms ? { ...msError('invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${client}' named 'mailsync'. Send an interactive authorization request for this user and resource.`), suberror: 'consent_required' } : { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' } };
    }
    if (grant === 'client_credentials') return { status: 200, body: this.#issue(undefined, client) };
    if (grant !== 'refresh_token') return { status: 400, body: ms ? msError('unsupported_grant_type', 70003, 'The app requested an unsupported grant type.') : { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + grant } };
    const presented = body.get('refresh_token') ?? '';
    const r = this.#refresh.get(presented);
    if (!r || !r.live || r.client !== client) {
      return { status: 400, body: ms ? msError('invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.') : { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    }
    const issued: Record<string, unknown> = this.#issue(r.user, client);
    if (this.rotateRefreshTokens) {
      r.live = false;
      issued.refresh_token = this.issueRefreshToken(r.user, client);
    }
    return { status: 200, body: issued };
  }

  async #clientAuthenticated(c: { secret?: string; publicKey?: KeyObject }, body: URLSearchParams, audience: string): Promise<boolean> {
    if (c.secret !== undefined) return body.get('client_secret') === c.secret;
    if (!c.publicKey || body.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
    try {
      await jwtVerify(body.get('client_assertion') ?? '', c.publicKey, { audience, issuer: body.get('client_id') ?? '', subject: body.get('client_id') ?? '' });
      return true;
    } catch {
      return false;
    }
  }

  async #jwtBearer(assertion: string, audience: string): Promise<{ status: number; body: object }> {
    let iss: string | undefined;
    try {
      const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: string };
      iss = payload.iss;
      decodeProtectedHeader(assertion);
    } catch {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' } };
    }
    const account = iss === undefined ? undefined : this.#serviceAccounts.get(iss);
    if (!account) return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    try {
      const { payload } = await jwtVerify(assertion, account.publicKey, { audience, issuer: iss });
      if (!account.consented) return { status: 401, body: { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' } };
      return { status: 200, body: this.#issue(String(payload.sub), iss ?? '') };
    } catch {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    }
  }

  #issue(user: string | undefined, client: string): Record<string, unknown> {
    const token = `at-${randomBytes(24).toString('base64url')}`;
    this.#access.set(token, { user, client, expiresAt: Date.now() + this.lifetimeSeconds * 1_000 });
    return { token_type: 'Bearer', expires_in: this.lifetimeSeconds, ext_expires_in: this.lifetimeSeconds, access_token: token };
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Microsoft's error body: the description carries the code, the trace and correlation ids and the time, as the fields do. */
function msError(error: string, code: number, text: string): object {
  const trace = crypto.randomUUID();
  const correlation = crypto.randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
    error_codes: [code], timestamp, trace_id: trace, correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
