import type { Config, Mailbox, Profile } from '../config/index.js';
import { classifyFailure } from '../directions/classify.js';
import type { CheckOptions, DirectionCheck, DirectionDeps, Ownership } from '../directions/contract.js';
import { loginFor, tokenStep } from '../protocols/login.js';
import { foreignOwner } from '../protocols/mailbox.js';
import type { ActConnections } from './connections.js';

/**
 * Test & Enable's ACT check: find the homes, authenticate and read each (a 403 is insufficient
 * permissions), and mark them as this organization's with the WebDAV dead property, taking them
 * over from another organization only with "this organization only". Never throws.
 */
export async function checkAct(
  mailbox: Mailbox, profile: Profile, organization: Config['organization'], options: CheckOptions, deps: DirectionDeps, connections: ActConnections,
): Promise<DirectionCheck & { ownership: Ownership }> {
  const steps: string[] = [];
  let ownership: Ownership = 'not_checked';
  try {
    // OAuth2: the token first, so a refused grant or missing consent is reported as that.
    const token = await tokenStep(loginFor(mailbox, profile).login, deps.tokens, options.signal);
    if (token) steps.push(token);
    const s = await connections.session(mailbox, profile, options.signal, deps.tokens);
    const homes = await connections.homes(mailbox, profile, organization, s, deps.autodiscover(), true);
    steps.push(`located ${homes.join(', ')}`);
    for (const home of homes) {
      const listing = await s.session.listHome(home);
      steps.push(`authenticated and read ${new URL(home).pathname}: ${listing.collections.length} collections`);
      const owner = listing.owner;
      if (owner !== null && owner !== organization.id && !options.thisOrgOnly) throw foreignOwner(mailbox, owner);
      if (owner !== organization.id) await s.session.setOwner(home, organization.id);
      const took = owner !== null && owner !== organization.id;
      if (took) ownership = 'taken_over';
      else if (ownership !== 'taken_over') ownership = 'marked';
      steps.push(took ? `took ownership of ${new URL(home).pathname} over from "${owner}"` : `ownership of ${new URL(home).pathname} marked`);
    }
    return { direction: 'act', ok: true, steps, ownership };
  } catch (error) {
    const c = classifyFailure(error, 'act', loginFor(mailbox, profile), deps.logger.child({ mailbox: mailbox.id }), { aborted: options.signal?.aborted ?? false });
    return { direction: 'act', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message, ownership };
  }
}
