import { createPrivateKey, randomUUID } from 'node:crypto';
import type { OAuth2Settings } from '../config/index.js';
import { lazyModule } from '../lazy.js';
import type { OAuthLogin } from './login.js';

// Loaded on first use: only OAuth2 logins with a private key or a service account sign JWTs, and
// importing jose costs about 0.04 s of CPU at start-up (measured against bare node).
const jose = lazyModule('jose', () => import('jose'));

/** RFC 7523 section 2.2: a JWT that authenticates the client instead of a shared secret. */
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 section 2.1: a JWT that is itself the grant (Google's service accounts). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Assertions live a few minutes: long enough for clock skew, short enough to be useless if captured. */
const ASSERTION_SECONDS = 300;

/**
 * The form body of a token request for `login` (RFC 6749 4.4 and 6, RFC 7523). `refreshToken` is
 * the current one (the store's rotated token, else the config's). `now` is in milliseconds.
 */
export async function grantBody(login: OAuthLogin, now: number, refreshToken: string | undefined): Promise<URLSearchParams> {
  const s = login.settings;
  const body = new URLSearchParams();
  switch (s.grant) {
    case 'client_credentials':
      body.set('grant_type', 'client_credentials');
      body.set('scope', s.scope);
      await clientAuth(body, s, now);
      break;
    case 'refresh_token':
      if (refreshToken === undefined) throw new Error(`${login.label} has no refresh token`);
      body.set('grant_type', 'refresh_token');
      body.set('refresh_token', refreshToken);
      body.set('scope', s.scope);
      await clientAuth(body, s, now);
      break;
    case 'jwt_bearer':
      body.set('grant_type', JWT_BEARER_GRANT);
      body.set('assertion', await serviceAccountAssertion(s, login.subject ?? '', now));
      break;
  }
  return body;
}

/** client_secret_post, or private_key_jwt with the configured key (Microsoft: certificate credential, x5t = thumbprint). */
async function clientAuth(body: URLSearchParams, s: OAuth2Settings, now: number): Promise<void> {
  body.set('client_id', s.clientId);
  if (s.clientSecret) {
    body.set('client_secret', s.clientSecret.reveal());
    return;
  }
  if (!s.privateKey) throw new Error(`no client credential for ${s.clientId}`);
  const iat = Math.floor(now / 1_000);
  const header: { alg: 'RS256'; typ: 'JWT'; x5t?: string } = { alg: 'RS256', typ: 'JWT' };
  if (s.certificateThumbprint) header.x5t = Buffer.from(s.certificateThumbprint, 'hex').toString('base64url');
  const { SignJWT } = await jose.load();
  const assertion = await new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(s.clientId).setSubject(s.clientId).setAudience(s.tokenUrl)
    .setIssuedAt(iat).setNotBefore(iat).setExpirationTime(iat + ASSERTION_SECONDS).setJti(randomUUID())
    .sign(createPrivateKey(s.privateKey.reveal()));
  body.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
  body.set('client_assertion', assertion);
}

/** Google's service-account assertion: iss = the service account, sub = the impersonated mailbox, scope as a claim. */
async function serviceAccountAssertion(s: OAuth2Settings, subject: string, now: number): Promise<string> {
  const account = s.serviceAccount;
  if (!account) throw new Error('grant jwt_bearer has no service account key');
  const iat = Math.floor(now / 1_000);
  const { SignJWT } = await jose.load();
  return new SignJWT({ scope: s.scope })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.privateKeyId ? { kid: account.privateKeyId } : {}) })
    .setIssuer(account.clientEmail).setSubject(subject).setAudience(s.tokenUrl)
    .setIssuedAt(iat).setExpirationTime(iat + ASSERTION_SECONDS)
    .sign(createPrivateKey(account.privateKey.reveal()));
}
