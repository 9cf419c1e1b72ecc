import { ClassifiedError } from '../../classify/index.js';
import type { Config, Mailbox, Profile } from '../../config/index.js';
import type { CheckOptions, CycleConfig, CycleWork, DirectionCheck, DirectionDeps, Ownership } from '../../directions/contract.js';
import { classifyFailure } from '../../directions/classify.js';
import type { TokenSource } from '../../auth/tokens.js';
import type { Logger } from '../../log.js';
import type { ImapLogin } from '../../protocols/imap.js';
import { loginFor, withTokenRetry } from '../../protocols/login.js';
import { Pop3Session, type Pop3Endpoint, type Pop3Login } from './client.js';
import { Pop3ReplyError } from './replies.js';
import { syncPop3 } from './sync.js';

/**
 * The POP3 incoming protocol (`incoming.protocol: pop3`): one maildrop, read leave-on-server by
 * UIDL into the same store as IMAP mail. A session is opened per cycle and closed with QUIT:
 * POP3 locks the maildrop for the session and shows it as it was at login, so a kept session
 * would block other clients and never see new mail.
 */
export async function pop3Cycle(
  mailbox: Mailbox, profile: Profile, config: CycleConfig, deps: DirectionDeps, signal?: AbortSignal,
): Promise<CycleWork> {
  const logger = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, direction: 'incoming', protocol: 'pop3' });
  const session = await openPop3(pop3Endpoint(profile), mailbox, profile, config.organization, logger, signal, deps.tokens);
  // A stop waits for the batch boundary; a command hung on a dead connection is cut instead.
  const stop = () => void session.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const options = { batchSize: config.sync.batchSize, maxMessageBytes: config.sync.maxMessageBytes, deleteAfterSync: profile.incoming.pop3.deleteAfterSync, filter: mailbox.incomingFilter };
    const result = await syncPop3(session, mailbox.id, options, { store: deps.store, clock: deps.clock, logger }, signal);
    const folder = result.folders[0];
    return {
      itemsProcessed: result.itemsProcessed, itemsFailed: result.itemsFailed, aborted: result.aborted,
      stored: folder?.inserted ?? 0, failedByCode: { ...folder?.failedByCode }, folders: result.folders,
    };
  } finally {
    signal?.removeEventListener('abort', stop);
    await session.close();
  }
}

/** Test & Enable's POP3 check: connect, secure, authenticate, STAT. POP3 cannot hold the ownership mark. */
export async function checkPop3(
  mailbox: Mailbox, profile: Profile, organization: Config['organization'], options: CheckOptions, deps: DirectionDeps,
): Promise<DirectionCheck & { ownership: Ownership }> {
  const steps: string[] = [];
  let session: Pop3Session | undefined;
  try {
    const endpoint = pop3Endpoint(profile);
    steps.push(`located ${endpoint.host}:${endpoint.port}`);
    session = await openPop3(endpoint, mailbox, profile, organization, deps.logger, options.signal, deps.tokens);
    steps.push(endpoint.security === 'none' ? 'connected without TLS (allowed by the organization)' : 'connected over TLS', 'authenticated');
    const { messages } = await session.stat();
    steps.push(`maildrop has ${messages} message${messages === 1 ? '' : 's'}`, 'POP3 has no server-side annotations: ownership not marked');
    return { direction: 'incoming', ok: true, steps, ownership: 'unsupported' };
  } catch (error) {
    const c = classifyFailure(error, 'incoming', loginFor(mailbox, profile), deps.logger.child({ mailbox: mailbox.id }), { aborted: options.signal?.aborted ?? false });
    return { direction: 'incoming', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message, ownership: 'not_checked' };
  } finally {
    await session?.close();
  }
}

/**
 * Connects and logs in, with the mailbox's OAuth2 access token where the profile's auth mode is
 * oauth2 (SASL XOAUTH2; the same token cache as IMAP and SMTP of that login). A token the server
 * refuses at AUTH is replaced once, as for IMAP: it may have been revoked or expired early.
 */
function openPop3(
  endpoint: Pop3Endpoint, mailbox: Mailbox, profile: Profile, organization: Config['organization'], logger: Logger,
  signal: AbortSignal | undefined, tokens: TokenSource | undefined,
): Promise<Pop3Session> {
  return withTokenRetry(loginFor(mailbox, profile).login, tokens,
    (login) => Pop3Session.open(endpoint, pop3Login(login), organization, logger, signal),
    (error) => error instanceof Pop3ReplyError && error.mailsyncCode === 'credentials_rejected', signal);
}

/** The login as POP3 sends it: an OAuth2 login's access token (held in `password`) goes as a bearer token. */
const pop3Login = (login: ImapLogin): Pop3Login => (login.oauth ? { user: login.user, accessToken: login.password } : login);

/** POP3 servers are configured by host (autoconfig's POP3 entries are not read): the loader refuses autodiscover with pop3. */
export function pop3Endpoint(profile: Profile): Pop3Endpoint {
  const { incoming, timeouts } = profile;
  if (incoming.host === undefined) throw new ClassifiedError('profile_invalid', `profile ${profile.id} uses POP3 and needs incoming.host`);
  return { host: incoming.host, port: incoming.port, security: incoming.security, caFile: incoming.caFile, timeouts };
}
