import { createHash } from 'node:crypto';
import type { Mailbox, OAuth2Settings, Profile, Secret } from '../config/index.js';

/**
 * One OAuth2 login: whose token it is and how to get one. Logins that share a token share a key:
 * with client credentials every mailbox of the client (app-only, the mailbox address is only the
 * IMAP/SMTP user), with JWT bearer one per impersonated address, with a refresh token one per mailbox.
 */
export interface OAuthLogin {
  /** token URL + client + subject, hashed: the cache key and the store's key (no address in clear). */
  readonly key: string;
  readonly settings: OAuth2Settings;
  /** jwt_bearer: the `sub` of the assertion (the mailbox address); undefined otherwise. */
  readonly subject: string | undefined;
  /** refresh_token: the initial refresh token from the config. */
  readonly refreshToken: Secret | undefined;
  /** For log lines: the profile (client credentials) or mailbox the token is for. */
  readonly label: string;
}

export function oauthLoginFor(mailbox: Mailbox, profile: Profile): OAuthLogin {
  const settings = profile.auth.oauth2;
  // The config loader guarantees it for auth.mode oauth2; this guards direct callers.
  if (!settings) throw new Error(`profile ${profile.id} has no auth.oauth2 settings`);
  const subject = settings.grant === 'jwt_bearer' ? mailbox.address : undefined;
  const perMailbox = settings.grant === 'refresh_token' ? `mailbox:${mailbox.id}` : undefined;
  const key = createHash('sha256').update([settings.tokenUrl, settings.clientId, settings.scope, subject ?? perMailbox ?? ''].join('\n')).digest('hex');
  return {
    key,
    settings,
    subject,
    refreshToken: settings.grant === 'refresh_token' ? mailbox.refreshToken : undefined,
    label: settings.grant === 'client_credentials' ? `profile ${profile.id}` : `mailbox ${mailbox.id}`,
  };
}
