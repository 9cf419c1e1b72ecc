import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { OAUTH2_PRESETS, type RawConfig, type SecretInput } from './schema.js';
import { Secret } from './secret.js';
import type { OAuth2Settings } from './types.js';

/** A token endpoint answers in well under a second; 30 s covers a slow one without holding a cycle for minutes. */
export const TOKEN_TIMEOUT_SECONDS = 30;

type RawOAuth2 = NonNullable<RawConfig['profiles'][number]['auth']['oauth2']>;

/** What resolving an OAuth2 section needs from the loader: where problems go, and how secrets are read. */
export interface OAuth2Findings {
  problems: string[];
  baseDir: string;
  secret: (input: SecretInput, where: string) => Secret;
}

/**
 * The one config-time form of the channel rule of protocols/channel.ts: credentials may cross a
 * channel without TLS only when the organization allows both servers without TLS and credentials
 * over them. Autoconfig URLs and token endpoints use it.
 */
export function plaintextCredentialsAllowed(organization: Pick<RawConfig['organization'], 'allowNonTlsServers' | 'allowCredentialsOverInsecureChannel'>): boolean {
  return organization.allowNonTlsServers && organization.allowCredentialsOverInsecureChannel;
}

/**
 * Resolves `auth.oauth2` of a profile whose mode is oauth2: the preset's URL (with the tenant) and
 * scope, the secrets, the keys parsed now so a malformed one fails at load naming its key, not at
 * the first login. Returns undefined (with problems) when the section cannot be used.
 */
export function resolveOAuth2(
  raw: RawOAuth2 | undefined, where: string, found: OAuth2Findings, organization: RawConfig['organization'],
): OAuth2Settings | undefined {
  const { problems } = found;
  if (!raw) {
    problems.push(`${where}: required when auth.mode is "oauth2"`);
    return undefined;
  }
  const preset = raw.preset ? OAUTH2_PRESETS[raw.preset] : undefined;
  const tokenUrl = resolveTokenUrl(raw, where, problems);
  if (tokenUrl !== undefined) checkTokenUrl(tokenUrl, `${where}.tokenUrl`, problems, organization);
  const scope = raw.scope ?? preset?.scope;
  if (scope === undefined) problems.push(`${where}.scope: required without a preset`);
  const serviceAccount = raw.grant === 'jwt_bearer' ? readServiceAccount(raw, where, found) : undefined;
  if (raw.grant === 'jwt_bearer' && raw.serviceAccountKey === undefined) problems.push(`${where}.serviceAccountKey: required with grant "jwt_bearer"`);
  if (raw.grant !== 'jwt_bearer' && raw.serviceAccountKey !== undefined) problems.push(`${where}.serviceAccountKey: used only with grant "jwt_bearer"`);
  const clientId = raw.clientId ?? serviceAccount?.clientEmail;
  // jwt_bearer's client is the service account; its key file's problem is already reported.
  if (clientId === undefined && raw.grant !== 'jwt_bearer') problems.push(`${where}.clientId: required with grant "${raw.grant}"`);
  if (raw.grant !== 'jwt_bearer' && raw.clientSecret === undefined && raw.privateKey === undefined) {
    problems.push(`${where}.clientSecret: a clientSecret or a privateKey (certificate credential) is required with grant "${raw.grant}"`);
  }
  if (raw.clientSecret !== undefined && raw.privateKey !== undefined) problems.push(`${where}.privateKey: give either clientSecret or privateKey, not both`);
  const privateKey = raw.privateKey === undefined ? undefined : found.secret(raw.privateKey, `${where}.privateKey`);
  if (privateKey && privateKey.source !== 'invalid') checkPrivateKey(privateKey.reveal(), `${where}.privateKey`, problems);
  if (tokenUrl === undefined || scope === undefined || clientId === undefined) return undefined;
  return {
    grant: raw.grant,
    tokenUrl,
    clientId,
    scope,
    clientSecret: raw.clientSecret === undefined ? undefined : found.secret(raw.clientSecret, `${where}.clientSecret`),
    privateKey,
    certificateThumbprint: raw.certificateThumbprint,
    serviceAccount,
    caFile: raw.caFile === undefined ? undefined : path.resolve(found.baseDir, raw.caFile),
    timeoutSeconds: raw.timeoutSeconds ?? TOKEN_TIMEOUT_SECONDS,
  };
}

function resolveTokenUrl(raw: RawOAuth2, where: string, problems: string[]): string | undefined {
  if (raw.tokenUrl !== undefined) return raw.tokenUrl;
  if (!raw.preset) {
    problems.push(`${where}.tokenUrl: required without a preset (presets: ${Object.keys(OAUTH2_PRESETS).join(', ')})`);
    return undefined;
  }
  const url: string = OAUTH2_PRESETS[raw.preset].tokenUrl;
  if (!url.includes('{tenant}')) return url;
  if (raw.tenant === undefined) {
    problems.push(`${where}.tenant: required with preset "${raw.preset}" (the directory id or domain of the organization)`);
    return undefined;
  }
  return url.replace('{tenant}', raw.tenant);
}

/** A token endpoint receives the client's secret: plain http needs what a server without TLS needs. */
function checkTokenUrl(url: string, where: string, problems: string[], organization: RawConfig['organization']): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.push(`${where}: "${url}" is not a URL`);
    return;
  }
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol !== 'http:') {
    problems.push(`${where}: "${url}" must be an https URL`);
    return;
  }
  if (!plaintextCredentialsAllowed(organization)) {
    problems.push(`${where}: "${url}" is plain http, and the client's credentials would cross it unencrypted; use https, or set`
      + ' organization.allowNonTlsServers and organization.allowCredentialsOverInsecureChannel');
  }
}

function checkPrivateKey(pem: string, where: string, problems: string[]): boolean {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') {
      problems.push(`${where}: an ${key.asymmetricKeyType ?? 'unknown'} key; token endpoints accept RS256 assertions, so it must be an RSA key`);
      return false;
    }
    return true;
  } catch (error) {
    problems.push(`${where}: not a readable PEM private key (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return false;
  }
}

/** Google's service-account key file as downloaded: JSON with client_email, private_key and private_key_id. */
function readServiceAccount(raw: RawOAuth2, where: string, found: OAuth2Findings): OAuth2Settings['serviceAccount'] {
  if (raw.serviceAccountKey === undefined) return undefined;
  const key = `${where}.serviceAccountKey`;
  const secret = found.secret(raw.serviceAccountKey, key);
  if (secret.source === 'invalid') return undefined;
  let parsed: { client_email?: unknown; private_key?: unknown; private_key_id?: unknown };
  try {
    parsed = JSON.parse(secret.reveal()) as typeof parsed;
  } catch {
    found.problems.push(`${key}: not JSON; give the service account's key file as downloaded (type "service_account")`);
    return undefined;
  }
  if (typeof parsed.client_email !== 'string' || typeof parsed.private_key !== 'string') {
    found.problems.push(`${key}: the key file has no client_email or private_key`);
    return undefined;
  }
  if (!checkPrivateKey(parsed.private_key, `${key}.private_key`, found.problems)) return undefined;
  return {
    clientEmail: parsed.client_email,
    privateKeyId: typeof parsed.private_key_id === 'string' ? parsed.private_key_id : undefined,
    privateKey: new Secret(parsed.private_key, secret.source),
  };
}

/**
 * Per mailbox: a refresh token exactly where its profile's grant uses one; and a key to keep
 * rotated refresh tokens encrypted in the store whenever one may be rotated.
 */
export function oauth2Problems(
  profiles: { id: string; auth: { oauth2: OAuth2Settings | undefined } }[],
  mailboxes: { profile: string; refreshToken: Secret | undefined }[],
  encryptionKey: Secret | undefined,
): string[] {
  const problems: string[] = [];
  const grants = new Map(profiles.map((p) => [p.id, p.auth.oauth2?.grant]));
  mailboxes.forEach((m, i) => {
    const grant = grants.get(m.profile);
    if (grant === 'refresh_token' && !m.refreshToken) problems.push(`mailboxes[${i}].refreshToken: required because profile "${m.profile}" uses grant "refresh_token"`);
    if (grant !== 'refresh_token' && m.refreshToken) problems.push(`mailboxes[${i}].refreshToken: used only by profiles with auth.oauth2.grant "refresh_token"`);
  });
  const rotates = profiles.some((p) => p.auth.oauth2?.grant === 'refresh_token');
  if (rotates && encryptionKey === undefined) {
    problems.push('store.encryptionKey: required when a profile uses grant "refresh_token" (rotated refresh tokens are kept encrypted with it)');
  }
  if (encryptionKey && encryptionKey.source !== 'invalid' && encryptionKey.reveal().length < 32) {
    problems.push('store.encryptionKey: must be at least 32 characters (try: openssl rand -hex 32)');
  }
  return problems;
}
