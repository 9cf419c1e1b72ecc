import { classifyError, type Classification } from '../classify/index.js';
import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import { decideOnFailure, type RetrySettings } from '../policy/retry.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import type { Store } from '../store/index.js';
import { openMailbox } from './connect.js';
import { syncIncoming, type FolderResult } from './incoming.js';
import { loginFor } from './login.js';
import type { SessionPool } from './sessions.js';

export interface CycleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  sessions: SessionPool;
  autodiscover?: Autodiscover;
}

export type CycleFailure = Pick<Classification, 'code' | 'class' | 'scope' | 'message'> & {
  /** The direction is now disabled (permanent failure, or the retry budget is used up). */
  disabled: boolean;
  /** When the next attempt may run (transient failures), else null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
};

export type CycleOutcome =
  | { mailbox: string; direction: 'incoming'; result: 'success' | 'aborted'; itemsProcessed: number; itemsFailed: number; durationSeconds: number; folders: FolderResult[] }
  | ({ mailbox: string; direction: 'incoming'; result: 'failure'; durationSeconds: number } & CycleFailure);

export function retrySettings(organization: Config['organization']): RetrySettings {
  return {
    maxTransientRetries: organization.retry.maxTransientRetries,
    intervalMs: organization.retry.intervalSeconds * 1_000,
    maxBackoffMs: organization.retry.maxBackoffSeconds * 1_000,
  };
}

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
    const at = clock.now();
    if (signal?.aborted) {
      // Stopped by a shutdown before anything was fetched: not the mailbox's failure.
      store.finishRun(runId, { result: 'aborted', at, itemsProcessed: 0, itemsFailed: 0 });
      log.info({ seconds: (at - started) / 1_000 }, 'incoming cycle aborted: the runner is stopping');
      return { mailbox: mailbox.id, direction: 'incoming', result: 'aborted', itemsProcessed: 0, itemsFailed: 0, durationSeconds: (at - started) / 1_000, folders: [] };
    }
    const c = classifyError(error, { direction: 'incoming', credentialSource: loginFor(mailbox, profile).source });
    if (!c.recognised) log.warn({ err: rawError(error) }, 'unrecognised error, classified as internal_error: please report it so it can be classified');
    const before = store.getDirectionState(mailbox.id, 'incoming')?.consecutiveFailures ?? 0;
    const decision = decideOnFailure(before, c, retrySettings(config.organization), at);
    const nextAttemptAt = decision.action === 'retry' ? decision.nextAttemptAt : null;
    store.finishRun(runId, {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: c.code, errorMessage: c.message,
      failure: { class: c.class, scope: c.scope, disable: decision.action === 'disable', nextAttemptAt, profileId: profile.id },
    });
    const fields = { code: c.code, class: c.class, scope: c.scope, err: c.message, consecutive: decision.consecutiveFailures };
    if (decision.action === 'disable') log.error(fields, 'incoming cycle failed: direction disabled');
    else log.warn({ ...fields, retriesLeft: decision.retriesLeft, nextAttemptAt: new Date(nextAttemptAt as number).toISOString() }, 'incoming cycle failed: will retry');
    return {
      mailbox: mailbox.id, direction: 'incoming', result: 'failure', durationSeconds: (at - started) / 1_000,
      code: c.code, class: c.class, scope: c.scope, message: c.message,
      disabled: decision.action === 'disable', nextAttemptAt, consecutiveFailures: decision.consecutiveFailures,
    };
  }
}

/** The fields of an error worth keeping to improve the classifier; never the whole object (it may hold a socket). */
export function rawError(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { value: String(error) };
  const e = error as Record<string, unknown>;
  const keep = ['name', 'message', 'code', 'responseStatus', 'responseText', 'serverResponseCode', 'responseCode', 'command', 'response'];
  return Object.fromEntries(keep.filter((k) => e[k] !== undefined).map((k) => [k, typeof e[k] === 'string' ? (e[k] as string).slice(0, 500) : e[k]]));
}
