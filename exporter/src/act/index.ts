import type { Mailbox, Profile } from '../config/index.js';
import type { CycleConfig, CycleWork, DirectionDeps, DirectionRunner } from '../directions/contract.js';
import { foreignOwner } from '../protocols/mailbox.js';
import { checkAct } from './check.js';
import { ActConnections } from './connections.js';
import { pullHome } from './pull.js';
import { pushPending } from './push.js';

/** The ACT runner, with its connections exposed for tests and the benchmark (requests counted). */
export type ActRunner = DirectionRunner & { readonly connections: ActConnections };

/**
 * The appointments, contacts and tasks direction: each mailbox's calendars (VEVENT), task lists
 * (VTODO) and address books (VCARD) over CalDAV and CardDAV, pulled incrementally into the store
 * and written back from the admin API with conditional requests. Its own interval (default 15
 * minutes) and the profile's act.maxConnections.
 */
export function createAct(deps: DirectionDeps): ActRunner {
  const connections = new ActConnections();
  return {
    name: 'act',
    connections,
    intervalMs: (_config, profile) => (profile.act?.intervalSeconds ?? 900) * 1_000,
    groupLimit: (profile) => profile.act?.maxConnections ?? 1,
    cycle: (mailbox, profile, config, signal) => actCycle(mailbox, profile, config, deps, connections, signal),
    check: (mailbox, profile, config, options) => checkAct(mailbox, profile, config.organization, options, deps, connections),
    release: (mailboxId) => connections.release(mailboxId),
    closeIdle: () => connections.closeAll(),
    close: async () => connections.closeAll(),
  };
}

/**
 * One cycle: list each home (its ownership mark and every collection's sync state, one request),
 * refuse a home another organization marked, push the queued changes, then pull what moved.
 */
async function actCycle(
  mailbox: Mailbox, profile: Profile, config: CycleConfig, deps: DirectionDeps, connections: ActConnections, signal?: AbortSignal,
): Promise<CycleWork> {
  const s = await connections.session(mailbox, profile, signal, deps.tokens);
  const homes = await connections.homes(mailbox, profile, config.organization, s, deps.autodiscover());
  const work: CycleWork = { itemsProcessed: 0, itemsFailed: 0, stored: 0, failedByCode: {}, aborted: false, folders: [] };
  const add = (codes: Record<string, number>) => {
    for (const [code, n] of Object.entries(codes)) work.failedByCode[code] = (work.failedByCode[code] ?? 0) + n;
  };
  let pushed = false;
  for (const home of homes) {
    let listing = await s.session.listHome(home);
    if (listing.owner !== null && listing.owner !== config.organization.id) throw foreignOwner(mailbox, listing.owner);
    if (!pushed) {
      pushed = true;
      const push = await pushPending(s.session, home, mailbox.id, deps, signal);
      work.itemsProcessed += push.pushed + push.failed;
      work.itemsFailed += push.failed;
      add(push.failedByCode);
      // What was pushed moved the collections' tokens: read them again so the pull sees it.
      if (push.pushed > 0) listing = await s.session.listHome(home);
    }
    const pull = await pullHome(s.session, home, listing.collections, mailbox.id, deps, signal);
    work.itemsProcessed += pull.itemsProcessed;
    work.itemsFailed += pull.itemsFailed;
    work.stored += pull.stored;
    add(pull.failedByCode);
  }
  work.aborted = signal?.aborted ?? false;
  return work;
}
