import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import { ImapSession } from '../protocols/imap.js';
import type { Store } from '../store/index.js';
import { describeFailure } from './failure.js';
import { syncIncoming, type FolderResult } from './incoming.js';
import { loginFor } from './login.js';
import type { SessionPool } from './sessions.js';

export interface CycleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  sessions: SessionPool;
}

export type CycleOutcome =
  | { mailbox: string; direction: 'incoming'; result: 'success' | 'aborted'; itemsProcessed: number; itemsFailed: number; durationSeconds: number; folders: FolderResult[] }
  | { mailbox: string; direction: 'incoming'; result: 'failure'; code: string; message: string; durationSeconds: number };

/**
 * Runs one incoming cycle of a mailbox end to end: records the run, borrows a session, syncs,
 * and folds the result or the failure into the store. Never throws for a mailbox's own failure.
 */
export async function runIncomingCycle(
  mailbox: Mailbox,
  profile: Profile,
  config: Pick<Config, 'organization' | 'sync'>,
  deps: CycleDeps,
  signal?: AbortSignal,
): Promise<CycleOutcome> {
  const { store, clock, logger, sessions } = deps;
  const started = clock.now();
  const runId = store.startRun(mailbox.id, 'incoming', started);
  const log = logger.child({ mailbox: mailbox.id, profile: profile.id, direction: 'incoming' });
  const open = () => ImapSession.open(
    { ...profile.incoming, timeouts: profile.timeouts }, loginFor(mailbox, profile).login, config.organization, log,
  );
  const options = { batchSize: config.sync.batchSize, maxMessageBytes: config.sync.maxMessageBytes, startFrom: mailbox.startFrom };

  const attempt = async () => {
    const { session, reused } = await sessions.acquire(mailbox.id, profile.id, open);
    let reusable = false;
    try {
      const result = await syncIncoming(session, mailbox, options, { store, clock, logger: log }, signal);
      reusable = true;
      return result;
    } catch (error) {
      // A kept session the server dropped while idle is not the mailbox's failure: releasing it
      // below closes it, so the second attempt logs in afresh.
      if (reused && !session.usable) return undefined;
      throw error;
    } finally {
      sessions.release(mailbox.id, profile.id, session, reusable);
    }
  };

  try {
    const result = (await attempt()) ?? (await attempt());
    // Unreachable in practice (a fresh session's failure throws); it narrows the type.
    if (!result) throw new Error('the IMAP connection closed twice in a row');
    const at = clock.now();
    const outcome = result.aborted ? 'aborted' : 'success';
    store.finishRun(runId, { result: outcome, at, itemsProcessed: result.itemsProcessed, itemsFailed: result.itemsFailed });
    const durationSeconds = (at - started) / 1_000;
    if (result.itemsProcessed > 0 || result.aborted) {
      log.info({ result: outcome, items: result.itemsProcessed, failed: result.itemsFailed, seconds: durationSeconds }, 'incoming cycle finished');
    } else {
      log.debug({ result: outcome, seconds: durationSeconds }, 'incoming cycle finished, nothing new');
    }
    return { mailbox: mailbox.id, direction: 'incoming', result: outcome, itemsProcessed: result.itemsProcessed, itemsFailed: result.itemsFailed, durationSeconds, folders: result.folders };
  } catch (error) {
    const failure = describeFailure(error);
    const at = clock.now();
    store.finishRun(runId, { result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: failure.code, errorMessage: failure.message });
    log.warn({ code: failure.code, err: failure.message }, 'incoming cycle failed');
    return { mailbox: mailbox.id, direction: 'incoming', result: 'failure', code: failure.code, message: failure.message, durationSeconds: (at - started) / 1_000 };
  }
}
