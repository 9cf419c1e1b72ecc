import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from './index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const env = { SECRET: 'client-secret', RSA: rsa, EC: ec, RT: 'refresh-token', KEY: 'k'.repeat(40), BAD: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' };

function config(oauth2: Record<string, unknown>, extra: { mailbox?: Record<string, unknown>; organization?: Record<string, unknown>; store?: Record<string, unknown> } = {}) {
  return stringify({
    organization: { id: 'org', ...extra.organization },
    ...(extra.store ? { store: extra.store } : {}),
    profiles: [{ id: 'p', incoming: { host: 'outlook.office365.com' }, auth: { mode: 'oauth2', oauth2 } }],
    mailboxes: [{ id: 'm', address: 'm@example.com', profile: 'p', ...extra.mailbox }],
  });
}

function problems(text: string): string[] {
  try {
    parseConfig(text, '/cfg/mailsync.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('auth.mode oauth2', () => {
  it('fills the Microsoft 365 preset: the tenant in the URL, the Exchange Online scope', () => {
    const c = parseConfig(config({ grant: 'client_credentials', preset: 'microsoft365', tenant: 'contoso.onmicrosoft.com', clientId: 'app', clientSecret: '${SECRET}' }), '/cfg/m.yaml', { env });
    expect(c.profiles[0]?.auth.oauth2).toMatchObject({
      tokenUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      scope: 'https://outlook.office365.com/.default', clientId: 'app', timeoutSeconds: 30,
    });
    expect(JSON.stringify(c.profiles[0]?.auth.oauth2)).not.toContain('client-secret');
  });

  it('fills the Google preset and reads the service account key file for jwt_bearer', () => {
    const key = JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: rsa, private_key_id: 'abc' });
    const c = parseConfig(config({ grant: 'jwt_bearer', preset: 'google', serviceAccountKey: key }), '/cfg/m.yaml', { env });
    expect(c.profiles[0]?.auth.oauth2).toMatchObject({ tokenUrl: 'https://oauth2.googleapis.com/token', scope: 'https://mail.google.com/', clientId: 'sa@p.iam.gserviceaccount.com' });
  });

  it('names the key of each mistake', () => {
    expect(problems(config({ grant: 'client_credentials', preset: 'yahoo', clientId: 'a', clientSecret: 'x' })))
      .toEqual(['profiles[0].auth.oauth2.preset: must be one of: microsoft365, google']);
    expect(problems(config({ grant: 'client_credentials', preset: 'microsoft365', clientId: 'a', clientSecret: '${SECRET}' })))
      .toEqual(['profiles[0].auth.oauth2.tenant: required with preset "microsoft365" (the directory id or domain of the organization)']);
    expect(problems(config({ grant: 'client_credentials', tokenUrl: 'https://t.example/token', scope: 's' })))
      .toEqual(['profiles[0].auth.oauth2.clientId: required with grant "client_credentials"',
        'profiles[0].auth.oauth2.clientSecret: a clientSecret or a privateKey (certificate credential) is required with grant "client_credentials"']);
    expect(problems(config({ grant: 'client_credentials', preset: 'google', clientId: 'a', privateKey: '${BAD}' })))
      .toEqual([expect.stringMatching(/^profiles\[0\]\.auth\.oauth2\.privateKey: not a readable PEM private key \(/)]);
    expect(problems(config({ grant: 'client_credentials', preset: 'google', clientId: 'a', privateKey: '${EC}' })))
      .toEqual(['profiles[0].auth.oauth2.privateKey: an ec key; token endpoints accept RS256 assertions, so it must be an RSA key']);
    expect(problems(config({ grant: 'jwt_bearer', preset: 'google', serviceAccountKey: '${SECRET}' })))
      .toEqual(['profiles[0].auth.oauth2.serviceAccountKey: not JSON; give the service account\'s key file as downloaded (type "service_account")']);
  });

  it('refuses a token URL without TLS unless both insecure-channel settings allow it', () => {
    const plain = { grant: 'client_credentials', tokenUrl: 'http://idp.example/token', scope: 's', clientId: 'a', clientSecret: '${SECRET}' };
    expect(problems(config(plain))).toEqual([expect.stringMatching(/^profiles\[0\]\.auth\.oauth2\.tokenUrl: "http:\/\/idp\.example\/token" is plain http/)]);
    expect(problems(config(plain, { organization: { allowNonTlsServers: true } }))).toHaveLength(1);
    expect(problems(config(plain, { organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true } }))).toEqual([]);
  });

  it('asks each mailbox of a refresh_token profile for its refresh token, and for a store key', () => {
    const grant = { grant: 'refresh_token', preset: 'google', clientId: 'a', clientSecret: '${SECRET}' };
    expect(problems(config(grant))).toEqual([
      'mailboxes[0].refreshToken: required because profile "p" uses grant "refresh_token"',
      'store.encryptionKey: required when a profile uses grant "refresh_token" (rotated refresh tokens are kept encrypted with it)',
    ]);
    expect(problems(config(grant, { mailbox: { refreshToken: '${RT}' }, store: { encryptionKey: '${KEY}' } }))).toEqual([]);
    expect(problems(config(grant, { mailbox: { refreshToken: '${RT}' }, store: { encryptionKey: 'short' } })))
      .toEqual(['store.encryptionKey: must be at least 32 characters (try: openssl rand -hex 32)']);
  });
});
