import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import type { Store } from '../store/index.js';
import { openMailbox } from './connect.js';
import { syncIncoming } from './incoming.js';
import { finishAborted, finishFailed, type CycleOutcome } from './run-record.js';
import type { SessionPool } from './sessions.js';

export interface CycleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  sessions: SessionPool;
  autodiscover?: Autodiscover;
}

export type { CycleFailure, CycleOutcome } from './run-record.js';
export { retrySettings } from './run-record.js';

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
  const open = () => openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover, logger: log, signal });
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

  const ctx = { runId, started, mailbox, profile, direction: 'incoming' as const, organization: config.organization, store, clock, log };
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
    const failedByCode: Record<string, number> = {};
    for (const f of result.folders) for (const [code, n] of Object.entries(f.failedByCode)) failedByCode[code] = (failedByCode[code] ?? 0) + n;
    return {
      mailbox: mailbox.id, direction: 'incoming', result: outcome, itemsProcessed: result.itemsProcessed, itemsFailed: result.itemsFailed,
      stored: result.folders.reduce((n, f) => n + f.inserted, 0), failedByCode, durationSeconds, folders: result.folders,
    };
  } catch (error) {
    return signal?.aborted ? finishAborted(ctx) : finishFailed(ctx, error);
  }
}
