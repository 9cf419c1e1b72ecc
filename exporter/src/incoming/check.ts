import type { Config, Mailbox, Profile } from '../config/index.js';
import type { CheckOptions, DirectionCheck, DirectionDeps, Ownership } from '../directions/contract.js';
import { classifyFailure } from '../directions/classify.js';
import { ImapSession } from '../protocols/imap.js';
import { loginFor, tokenStep } from '../protocols/login.js';
import { foreignOwner, openSession, resolveEndpoint } from '../protocols/mailbox.js';

/**
 * Test & Enable's incoming check: locate the server, connect, secure the channel, authenticate,
 * mark the mailbox as this organization's (taking it over from another one only when asked), and
 * open every configured folder. Each step passed is named, so a failure says where it happened.
 */
export async function checkIncoming(
  mailbox: Mailbox, profile: Profile, organization: Config['organization'], options: CheckOptions, deps: DirectionDeps,
): Promise<DirectionCheck & { ownership: Ownership }> {
  const steps: string[] = [];
  let ownership: Ownership = 'not_checked';
  let session: ImapSession | undefined;
  try {
    // OAuth2: the token first, so a refused grant or missing consent is reported as that.
    const token = await tokenStep(loginFor(mailbox, profile).login, deps.tokens, options.signal);
    if (token) steps.push(token);
    const endpoint = await resolveEndpoint(mailbox, profile, deps.autodiscover());
    steps.push(`located ${endpoint.host}:${endpoint.port}`);
    session = await openSession(endpoint, mailbox, profile, organization, { autodiscover: undefined, logger: deps.logger, signal: options.signal, tokens: deps.tokens });
    steps.push(endpoint.security === 'none' ? 'connected without TLS (allowed by the organization)' : 'connected over TLS', 'authenticated');
    if (session.supportsMetadata) {
      const owner = await session.getOwnerMark();
      if (owner !== null && owner !== organization.id && !options.thisOrgOnly) throw foreignOwner(mailbox, owner);
      if (owner !== organization.id) await session.setOwnerMark(organization.id);
      ownership = owner !== null && owner !== organization.id ? 'taken_over' : 'marked';
      steps.push(ownership === 'taken_over' ? `took ownership over from "${owner}"` : 'ownership marked');
    } else {
      ownership = 'unsupported';
      steps.push('server has no METADATA: ownership not marked');
    }
    for (const folder of mailbox.folders) {
      await session.examine(folder);
      await session.leaveFolder();
      steps.push(`opened ${folder}`);
    }
    return { direction: 'incoming', ok: true, steps, ownership };
  } catch (error) {
    const c = classifyFailure(error, 'incoming', loginFor(mailbox, profile), deps.logger.child({ mailbox: mailbox.id }), { aborted: options.signal?.aborted ?? false });
    return { direction: 'incoming', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message, ownership };
  } finally {
    await session?.close();
  }
}
