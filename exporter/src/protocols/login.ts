import type { Mailbox, Profile } from '../config/index.js';
import type { CredentialSource } from '../classify/index.js';
import type { ImapLogin } from './imap.js';

export type { CredentialSource };

/**
 * The IMAP login for a mailbox under its profile's auth mode:
 * - mailbox: the mailbox's own username and password;
 * - profile: the profile's credentials, where the username may hold `{address}` or `{localpart}`;
 * - impersonation: the profile's service account authenticates and acts as the mailbox address
 *   (SASL PLAIN authorization identity, what Dovecot master users and Exchange-style delegation use).
 */
export function loginFor(mailbox: Mailbox, profile: Profile): { login: ImapLogin; source: CredentialSource } {
  const mode = profile.auth.mode;
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
