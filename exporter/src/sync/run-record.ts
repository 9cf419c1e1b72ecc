import { classifyError, type Classification } from '../classify/index.js';
import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import { decideOnFailure, type RetrySettings } from '../policy/retry.js';
import type { Direction, Store } from '../store/index.js';
import type { FolderResult } from './incoming.js';
import { loginFor } from './login.js';

export type CycleFailure = Pick<Classification, 'code' | 'class' | 'scope' | 'message'> & {
  /** The direction is now disabled (permanent failure, or the retry budget is used up). */
  disabled: boolean;
  /** When the next attempt may run (transient failures), else null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
};

export interface CycleSuccess {
  mailbox: string;
  direction: Direction;
  result: 'success' | 'aborted';
  itemsProcessed: number;
  itemsFailed: number;
  /** Emails stored for the first time (incoming). */
  stored: number;
  failedByCode: Record<string, number>;
  durationSeconds: number;
  /** Incoming: what happened in each folder. */
  folders: FolderResult[];
}

export type CycleOutcome = CycleSuccess | ({ mailbox: string; direction: Direction; result: 'failure'; durationSeconds: number } & CycleFailure);

export function retrySettings(organization: Config['organization']): RetrySettings {
  return {
    maxTransientRetries: organization.retry.maxTransientRetries,
    intervalMs: organization.retry.intervalSeconds * 1_000,
    maxBackoffMs: organization.retry.maxBackoffSeconds * 1_000,
  };
}

interface RunContext {
  runId: number;
  started: number;
  mailbox: Mailbox;
  profile: Profile;
  direction: Direction;
  organization: Config['organization'];
  store: Store;
  clock: Clock;
  log: Logger;
}

/** A run stopped by a shutdown: recorded as aborted, not as the mailbox's failure. */
export function finishAborted(ctx: RunContext): CycleOutcome {
  const at = ctx.clock.now();
  ctx.store.finishRun(ctx.runId, { result: 'aborted', at, itemsProcessed: 0, itemsFailed: 0 });
  ctx.log.info({ seconds: (at - ctx.started) / 1_000 }, `${ctx.direction} cycle aborted: the runner is stopping`);
  return {
    mailbox: ctx.mailbox.id, direction: ctx.direction, result: 'aborted', itemsProcessed: 0, itemsFailed: 0, stored: 0,
    failedByCode: {}, durationSeconds: (at - ctx.started) / 1_000, folders: [],
  };
}

/**
 * A failed run: classified against the taxonomy, decided by the retry policy, and recorded with
 * the run in one transaction (disable, alert records). The one path every direction's failure takes.
 */
export function finishFailed(ctx: RunContext, error: unknown): CycleOutcome {
  const { store, clock, log, mailbox, profile, direction } = ctx;
  const at = clock.now();
  const c = classifyError(error, { direction, credentialSource: loginFor(mailbox, profile).source });
  if (!c.recognised) log.warn({ err: rawError(error) }, 'unrecognised error, classified as internal_error: please report it so it can be classified');
  const before = store.getDirectionState(mailbox.id, direction)?.consecutiveFailures ?? 0;
  const decision = decideOnFailure(before, c, retrySettings(ctx.organization), at);
  const nextAttemptAt = decision.action === 'retry' ? decision.nextAttemptAt : null;
  store.finishRun(ctx.runId, {
    result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: c.code, errorMessage: c.message,
    failure: { class: c.class, scope: c.scope, disable: decision.action === 'disable', nextAttemptAt, profileId: profile.id },
  });
  const fields = { code: c.code, class: c.class, scope: c.scope, err: c.message, consecutive: decision.consecutiveFailures };
  if (decision.action === 'disable') log.error(fields, `${direction} cycle failed: direction disabled`);
  else log.warn({ ...fields, retriesLeft: decision.retriesLeft, nextAttemptAt: new Date(nextAttemptAt as number).toISOString() }, `${direction} cycle failed: will retry`);
  return {
    mailbox: mailbox.id, direction, result: 'failure', durationSeconds: (at - ctx.started) / 1_000,
    code: c.code, class: c.class, scope: c.scope, message: c.message,
    disabled: decision.action === 'disable', nextAttemptAt, consecutiveFailures: decision.consecutiveFailures,
  };
}

/** The fields of an error worth keeping to improve the classifier; never the whole object (it may hold a socket). */
export function rawError(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { value: String(error) };
  const e = error as Record<string, unknown>;
  const keep = ['name', 'message', 'code', 'responseStatus', 'responseText', 'serverResponseCode', 'responseCode', 'command', 'response'];
  return Object.fromEntries(keep.filter((k) => e[k] !== undefined).map((k) => [k, typeof e[k] === 'string' ? (e[k] as string).slice(0, 500) : e[k]]));
}
