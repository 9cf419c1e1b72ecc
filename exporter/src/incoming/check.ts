import type { Config, Mailbox, Profile } from '../config/index.js';
import type { CheckOptions, DirectionCheck, DirectionDeps, Ownership } from '../directions/contract.js';
import { classifyFailure } from '../directions/classify.js';
import { ImapSession } from '../protocols/imap.js';
import { loginFor, tokenStep } from '../protocols/login.js';
import { foreignOwner, openSession, ownershipRefusal, resolveEndpoint } from '../protocols/mailbox.js';

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
    ownership = await markOwnership(session, mailbox, organization.id, options.thisOrgOnly, steps);
    for (const folder of mailbox.folders) {
      const path = await session.resolveFolder(folder);
      await session.examine(path);
      await session.leaveFolder();
      steps.push(path === folder ? `opened ${folder}` : `opened ${folder} (${path} on this server)`);
    }
    return { direction: 'incoming', ok: true, steps, ownership };
  } catch (error) {
    const c = classifyFailure(error, 'incoming', loginFor(mailbox, profile), deps.logger.child({ mailbox: mailbox.id }), { aborted: options.signal?.aborted ?? false });
    return { direction: 'incoming', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message, ownership };
  } finally {
    await session?.close();
  }
}

/**
 * Reads and sets the ownership mark. A server that advertises METADATA but refuses the private
 * entry ("NO Permission denied", a stock setting on some servers) or cannot store it ("NO
 * [SERVERBUG]", a failing dictionary) is one without METADATA for this purpose: ownership
 * unsupported, and the check goes on. That refusal is the server's policy, not the mailbox's
 * failure, and must neither disable the mailbox nor stand in for its real last error. A lost
 * connection still fails the check.
 */
async function markOwnership(session: ImapSession, mailbox: Mailbox, orgId: string, thisOrgOnly: boolean, steps: string[]): Promise<Ownership> {
  if (!session.supportsMetadata) {
    steps.push('server has no METADATA: ownership not marked');
    return 'unsupported';
  }
  let owner: string | null;
  try {
    owner = await session.getOwnerMark();
    if (owner !== null && owner !== orgId && !thisOrgOnly) throw foreignOwner(mailbox, owner);
    if (owner !== orgId) await session.setOwnerMark(orgId);
  } catch (error) {
    const refusal = ownershipRefusal(session, error);
    if (refusal === undefined) throw error;
    steps.push(`server refused the ownership mark (${refusal}): ownership not marked`);
    return 'unsupported';
  }
  const ownership = owner !== null && owner !== orgId ? 'taken_over' : 'marked';
  steps.push(ownership === 'taken_over' ? `took ownership over from "${owner}"` : 'ownership marked');
  return ownership;
}
