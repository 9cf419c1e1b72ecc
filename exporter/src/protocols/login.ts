import { oauthLoginFor } from '../auth/login.js';
import type { TokenSource } from '../auth/tokens.js';
import type { Mailbox, Profile } from '../config/index.js';
import { ClassifiedError, type CredentialSource } from '../classify/index.js';
import { Secret } from '../config/index.js';
import type { ImapLogin } from './imap.js';
import type { SmtpLogin } from './smtp.js';

export type { CredentialSource };

/**
 * The IMAP login for a mailbox under its profile's auth mode:
 * - mailbox: the mailbox's own username and password;
 * - profile: the profile's credentials, where the username may hold `{address}` or `{localpart}`;
 * - impersonation: the profile's service account authenticates and acts as the mailbox address
 *   (SASL PLAIN authorization identity, what Dovecot master users and Exchange-style delegation use);
 * - oauth2: the mailbox address with an access token (`withAccessToken` adds it). The source is
 *   the mailbox for a per-mailbox refresh token, else the profile (one client for every mailbox).
 */
export function loginFor(mailbox: Mailbox, profile: Profile): { login: ImapLogin; source: CredentialSource } {
  const mode = profile.auth.mode;
  if (mode === 'oauth2') {
    const oauth = oauthLoginFor(mailbox, profile);
    const source = oauth.settings.grant === 'refresh_token' ? 'mailbox' : 'profile';
    return { login: { user: mailbox.address, password: new Secret('', 'oauth2'), oauth }, source };
  }
  const creds = mode === 'mailbox' ? mailbox.credentials : profile.auth.credentials;
  // The config loader guarantees the credentials exist for the mode; this guards direct callers.
  if (!creds) throw new Error(`mailbox ${mailbox.id} has no credentials for auth mode "${mode}"`);
  if (mode === 'impersonation') {
    return { login: { user: creds.username, password: creds.password, authzid: mailbox.address }, source: mode };
  }
  const user = mode === 'profile'
    ? creds.username.replaceAll('{address}', mailbox.address).replaceAll('{localpart}', mailbox.address.split('@')[0] as string)
    : creds.username;
  return { login: { user, password: creds.password }, source: mode };
}

/** An OAuth2 login with its current access token (in `password`, so every redaction covers it); others as they are. */
export async function withAccessToken(login: ImapLogin, tokens: TokenSource | undefined, signal?: AbortSignal): Promise<ImapLogin> {
  if (!login.oauth) return login;
  if (!tokens) throw new ClassifiedError('profile_invalid', `OAuth2 logins are not available here (${login.oauth.label})`);
  return { ...login, password: await tokens.get(login.oauth, signal) };
}

/**
 * Logs in with `open`; an OAuth2 login the server refuses is retried once with a fresh token (the
 * cached one may have been revoked or expired early), so a token ending mid-run is no failure.
 */
export async function withTokenRetry<T>(
  login: ImapLogin, tokens: TokenSource | undefined, open: (login: ImapLogin) => Promise<T>, refused: (error: unknown) => boolean, signal?: AbortSignal,
): Promise<T> {
  const first = await withAccessToken(login, tokens, signal);
  try {
    return await open(first);
  } catch (error) {
    if (!first.oauth || !tokens || !refused(error)) throw error;
    tokens.invalidate(first.oauth, first.password);
    return open(await withAccessToken(login, tokens, signal));
  }
}

/** The SMTP login: an OAuth2 one asks the token cache for each connection's token (and for a new one when refused). */
export function smtpLoginFor(login: ImapLogin, tokens: TokenSource | undefined): SmtpLogin {
  const { oauth } = login;
  if (!oauth) return { user: login.user, password: login.password };
  let last: Secret | undefined;
  return {
    user: login.user,
    password: login.password,
    accessToken: async (renew) => {
      if (!tokens) throw new ClassifiedError('profile_invalid', `OAuth2 logins are not available here (${oauth.label})`);
      if (renew && last) tokens.invalidate(oauth, last);
      last = await tokens.get(oauth);
      return last;
    },
  };
}

/**
 * Test & Enable's first step for an OAuth2 login: obtain a token, so a refused grant or missing
 * consent is reported as that, before any mail server is contacted. Undefined for other logins.
 */
export async function tokenStep(login: ImapLogin, tokens: TokenSource | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!login.oauth) return undefined;
  await withAccessToken(login, tokens, signal);
  return `obtained an OAuth2 access token from ${new URL(login.oauth.settings.tokenUrl).host} (grant ${login.oauth.settings.grant})`;
}
