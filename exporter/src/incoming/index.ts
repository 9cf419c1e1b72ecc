import type { Config, Mailbox, Profile } from '../config/index.js';
import type { CycleConfig, CycleWork, DirectionDeps, DirectionRunner } from '../directions/contract.js';
import { openMailbox } from '../protocols/mailbox.js';
import { pollIntervalMs } from '../scheduler/scheduler.js';
import { checkIncoming } from './check.js';
import { checkPop3, pop3Cycle } from './pop3/index.js';
import { syncIncoming } from './folders.js';
import { pushFolder, watchForNewMail } from './push.js';
import { SessionPool } from './sessions.js';

/**
 * The incoming direction: mail pulled from each mailbox's folders into the store over IMAP, on a
 * logged-in session kept between cycles within the profile's `maxConnections`, or from its POP3
 * maildrop (`incoming.protocol: pop3`, ./pop3/).
 */
export type IncomingRunner = DirectionRunner & { readonly sessions: SessionPool };

export function createIncoming(deps: DirectionDeps, profileLimit: (profileId: string) => number): IncomingRunner {
  const sessions = new SessionPool(profileLimit);
  return {
    name: 'incoming',
    sessions,
    intervalMs: (config: Config, profile: Profile) => pollIntervalMs(config.sync.pollIntervalSeconds, profile.minPollIntervalSeconds),
    groupLimit: (profile) => profile.maxConnections,
    // One entry per incoming protocol: IMAP here, POP3 in ./pop3/.
    cycle: (mailbox, profile, config, signal) => profile.incoming.protocol === 'pop3'
      ? pop3Cycle(mailbox, profile, config, deps, signal)
      : incomingCycle(mailbox, profile, config, deps, sessions, signal),
    check: (mailbox, profile, config, options) => profile.incoming.protocol === 'pop3'
      ? checkPop3(mailbox, profile, config.organization, options, deps)
      : checkIncoming(mailbox, profile, config.organization, options, deps),
    release: (mailboxId) => sessions.discard(mailboxId),
    closeIdle: () => sessions.closeIdle(),
    close: () => sessions.closeAll(),
  };
}

async function incomingCycle(
  mailbox: Mailbox, profile: Profile, config: CycleConfig, deps: DirectionDeps, sessions: SessionPool, signal?: AbortSignal,
): Promise<CycleWork> {
  const { store, clock } = deps;
  const logger = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, direction: 'incoming' });
  const open = () => openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover(), logger, signal, tokens: deps.tokens });
  const options = { batchSize: config.sync.batchSize, maxMessageBytes: config.sync.maxMessageBytes, startFrom: mailbox.startFrom, filter: mailbox.incomingFilter };

  const attempt = async () => {
    const { session, reused } = await sessions.acquire(mailbox.id, profile.id, open);
    const reportsAtStart = session.newMailReports;
    let reusable = false;
    let watch: Awaited<ReturnType<typeof watchForNewMail>>;
    // A stop waits for the next batch boundary, but a command hung on a dead connection would hold
    // it until the socket timeout (minutes): the stop closes the session (LOGOUT, at most a second).
    const stop = () => void session.close();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      const keepOpen = deps.wake ? pushFolder(session, profile) : undefined;
      const result = await syncIncoming(session, mailbox, { ...options, keepOpen }, { store, clock, logger }, signal);
      reusable = true;
      if (!signal?.aborted) watch = await watchForNewMail(session, mailbox, profile, result.folders, { logger, wake: deps.wake, reportsAtStart });
      // Kept open for a watch that did not start: a folder left open would show an old view later.
      if (!watch && session.usable && session.openFolder) await session.leaveFolder();
      reusable = session.usable;
      return result;
    } catch (error) {
      // A kept session the server dropped while idle is not the mailbox's failure: releasing it
      // below closes it, so the second attempt logs in afresh.
      if (reused && !session.usable && !signal?.aborted) return undefined;
      throw error;
    } finally {
      signal?.removeEventListener('abort', stop);
      sessions.release(mailbox.id, profile.id, session, reusable, watch);
    }
  };

  const result = (await attempt()) ?? (await attempt());
  // Unreachable in practice (a fresh session's failure throws); it narrows the type.
  if (!result) throw new Error('the IMAP connection closed twice in a row');
  const failedByCode: Record<string, number> = {};
  for (const f of result.folders) for (const [code, n] of Object.entries(f.failedByCode)) failedByCode[code] = (failedByCode[code] ?? 0) + n;
  return {
    itemsProcessed: result.itemsProcessed, itemsFailed: result.itemsFailed, aborted: result.aborted,
    stored: result.folders.reduce((n, f) => n + f.inserted, 0), failedByCode, folders: result.folders,
  };
}
