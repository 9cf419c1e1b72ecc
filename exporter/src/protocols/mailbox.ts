import { ClassifiedError } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Autodiscover } from './autodiscover.js';
import { ImapSession, type ImapEndpoint } from './imap.js';
import type { TokenSource } from '../auth/tokens.js';
import { loginFor, withTokenRetry } from './login.js';

/** Where the mailbox's IMAP server is: the profile's host, or what autodiscover finds for the address. */
export async function resolveEndpoint(mailbox: Mailbox, profile: Profile, autodiscover: Autodiscover | undefined): Promise<ImapEndpoint> {
  const { incoming, timeouts } = profile;
  if (incoming.host !== undefined) {
    return { host: incoming.host, port: incoming.port, security: incoming.security, caFile: incoming.caFile, timeouts };
  }
  if (!autodiscover) throw new ClassifiedError('profile_invalid', `profile ${profile.id} uses autodiscover but it is not available here`);
  const found = await autodiscover.discover(mailbox.address);
  return { host: found.host, port: found.port, security: found.security, caFile: incoming.caFile, timeouts };
}

export interface OpenOptions {
  autodiscover: Autodiscover | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** OAuth2 access tokens (auth.mode oauth2). */
  tokens?: TokenSource | undefined;
}

/** Connects and logs in for the mailbox; an OAuth2 login refused by the server is retried once with a fresh token. */
export function openSession(endpoint: ImapEndpoint, mailbox: Mailbox, profile: Profile, organization: Config['organization'], options: OpenOptions): Promise<ImapSession> {
  return withTokenRetry(loginFor(mailbox, profile).login, options.tokens,
    (login) => ImapSession.open(endpoint, login, organization, options.logger, options.signal),
    (error) => (error as { authenticationFailed?: boolean }).authenticationFailed === true, options.signal ?? undefined);
}

/**
 * Connects, secures and logs in for a mailbox, then checks the ownership mark: a mailbox another
 * deployment marked as its own is not synced here (`configured_in_another_org`) until Test &
 * Enable with "this organization only" takes it over.
 */
export async function openMailbox(
  mailbox: Mailbox, profile: Profile, organization: Config['organization'], options: OpenOptions,
): Promise<ImapSession> {
  const endpoint = await resolveEndpoint(mailbox, profile, options.autodiscover);
  const session = await openSession(endpoint, mailbox, profile, organization, options);
  try {
    const owner = session.supportsMetadata ? await session.getOwnerMark().catch((error: unknown) => {
      // A server that refuses the private entry cannot hold a mark: as if it had no METADATA.
      if (ownershipRefusal(session, error) === undefined) throw error;
      return null;
    }) : null;
    if (owner !== null && owner !== organization.id) throw foreignOwner(mailbox, owner);
    return session;
  } catch (error) {
    await session.close();
    throw error;
  }
}

export function foreignOwner(mailbox: Mailbox, owner: string): ClassifiedError {
  return new ClassifiedError('configured_in_another_org',
    `${mailbox.address} is marked as synced by organization "${owner}"; Test & Enable with thisOrganizationOnly takes it over`);
}

/**
 * The server's words when it answered a METADATA command with NO or BAD on a connection that is
 * still up (it refuses or cannot store the entry); undefined for any other error (a lost
 * connection, our own foreign-owner error), which the caller rethrows.
 */
export function ownershipRefusal(session: ImapSession, error: unknown): string | undefined {
  const e = error as { responseStatus?: unknown; responseText?: unknown; serverResponseCode?: unknown } | null;
  const status = typeof e?.responseStatus === 'string' ? e.responseStatus.toUpperCase() : undefined;
  if ((status !== 'NO' && status !== 'BAD') || !session.usable) return undefined;
  const code = typeof e?.serverResponseCode === 'string' ? `[${e.serverResponseCode}] ` : '';
  const text = typeof e?.responseText === 'string' ? e.responseText.replace(/^\[[^\]]*\]\s*/, '').slice(0, 120) : '';
  return `${status} ${code}${text}`.trim();
}
