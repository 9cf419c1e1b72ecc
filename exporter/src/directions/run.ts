import type { Classification } from '../classify/index.js';
import type { Mailbox, Profile } from '../config/index.js';
import { recordFailure } from '../lifecycle/failure.js';
import type { Logger } from '../log.js';
import { failureEffects } from '../policy/failure.js';
import { retrySettings } from '../policy/retry.js';
import { loginFor } from '../protocols/login.js';
import { FencedError, StoreUnavailableError, type Direction } from '../store/index.js';
import { classifyFailure } from './classify.js';
import type { CycleConfig, CycleWork, DirectionDeps, DirectionRunner } from './contract.js';

export type CycleFailure = Pick<Classification, 'code' | 'class' | 'scope' | 'message'> & {
  /** The direction is now disabled (permanent failure, or the retry budget is used up). */
  disabled: boolean;
  /** When the next attempt may run (transient failures), else null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
};

export type CycleSuccess = Omit<CycleWork, 'aborted'> & {
  mailbox: string;
  direction: Direction;
  result: 'success' | 'aborted';
  durationSeconds: number;
  /** Set when the cycle was cut short by the store (full disk...): the run is aborted, not the mailbox's failure. */
  storeFault?: StoreUnavailableError;
};

export type CycleOutcome = CycleSuccess | ({ mailbox: string; direction: Direction; result: 'failure'; durationSeconds: number } & CycleFailure);

const NOTHING: Omit<CycleWork, 'aborted'> = { itemsProcessed: 0, itemsFailed: 0, stored: 0, failedByCode: {}, folders: [] };

/**
 * One cycle of a direction with its run record: the run is opened, the direction does its work,
 * and the result (or the failure, classified and decided by policy) is folded into the store.
 * Never throws for a mailbox's own failure. `retry` says whether policy counts this run as a retry.
 */
export async function runCycle(
  runner: DirectionRunner, mailbox: Mailbox, profile: Profile, config: CycleConfig, deps: DirectionDeps,
  options: { retry: boolean; signal?: AbortSignal | undefined },
): Promise<CycleOutcome> {
  const { store, clock } = deps;
  const direction = runner.name;
  const started = clock.now();
  const log = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, direction });
  const seconds = () => (clock.now() - started) / 1_000;
  let runId: number | undefined;
  try {
    runId = await store.runs.startRun(mailbox.id, direction, started, options.retry);
    const { aborted, ...work } = await runner.cycle(mailbox, profile, config, options.signal);
    const result = aborted ? 'aborted' : 'success';
    await store.runs.finishRun(runId, { result, at: clock.now(), itemsProcessed: work.itemsProcessed, itemsFailed: work.itemsFailed });
    const fields = { result, items: work.itemsProcessed, failed: work.itemsFailed, seconds: seconds() };
    if (work.itemsProcessed > 0 || aborted) log.info(fields, `${direction} cycle finished`);
    else log.debug(fields, `${direction} cycle finished, nothing new`);
    return { mailbox: mailbox.id, direction, result, durationSeconds: seconds(), ...work };
  } catch (error) {
    // B: another runner holds the lease now; nothing of this runner's may be written, not even the
    // run's end (the new holder closes it). The scheduler counts and logs it; never the mailbox's failure.
    if (error instanceof FencedError) throw error;
    if (runId === undefined && !(error instanceof StoreUnavailableError)) throw error;
    try {
      if (error instanceof StoreUnavailableError) throw error;
      if (options.signal?.aborted) {
        // Stopped by a shutdown or a lost lease: recorded as aborted, not as the mailbox's failure.
        await store.runs.finishRun(runId!, { result: 'aborted', at: clock.now(), itemsProcessed: 0, itemsFailed: 0 });
        log.info({ seconds: seconds() }, `${direction} cycle aborted: the runner is stopping or lost the lease`);
        return { mailbox: mailbox.id, direction, result: 'aborted', durationSeconds: seconds(), ...NOTHING };
      }
      const failure = await finishFailed(runId!, error, mailbox, profile, direction, config, deps, log);
      return { mailbox: mailbox.id, direction, result: 'failure', durationSeconds: seconds(), ...failure };
    } catch (recording) {
      // The store's fault, met by the cycle or while recording its failure: not the mailbox's.
      if (recording instanceof StoreUnavailableError) return storeUnavailable(runId, recording, mailbox, direction, deps, log, seconds);
      throw recording;
    }
  }
}

/**
 * The store could not record the cycle's work (full disk, I/O error). That is the same for every
 * mailbox and none of its doing, so nothing is held against it: no failure, no retry used, no
 * disable. The run is closed as aborted if the store still takes that much (else the next start
 * closes it), the batch that could not be committed left its cursor where it was, and the next
 * cycle fetches the same mail again.
 */
async function storeUnavailable(
  runId: number | undefined, fault: StoreUnavailableError, mailbox: Mailbox, direction: Direction,
  { store, clock }: DirectionDeps, log: Logger, seconds: () => number,
): Promise<CycleSuccess> {
  // The reason in words and the driver's code; the stack says nothing an operator can act on.
  log.error({ code: fault.code, err: fault.message }, `${direction} cycle aborted: ${fault.message}; its work is done again once the store takes writes`);
  if (runId !== undefined) {
    await store.runs.finishRun(runId, { result: 'aborted', at: clock.now(), itemsProcessed: 0, itemsFailed: 0 }).catch((error: unknown) => {
      if (!(error instanceof StoreUnavailableError)) throw error;
    });
  }
  return { mailbox: mailbox.id, direction, result: 'aborted', durationSeconds: seconds(), ...NOTHING, storeFault: fault };
}

/**
 * A failed run: classified against the taxonomy, decided by policy, and recorded with the run in
 * one transaction (state, alert records, disable). The one path every direction's failure takes.
 */
async function finishFailed(
  runId: number, error: unknown, mailbox: Mailbox, profile: Profile, direction: Direction, config: CycleConfig,
  { store, clock }: DirectionDeps, log: Logger,
): Promise<CycleFailure> {
  const at = clock.now();
  const c = classifyFailure(error, direction, loginFor(mailbox, profile), log);
  const effects = await store.transaction(async (tx) => {
    const before = (await tx.runs.getDirectionState(mailbox.id, direction))?.consecutiveFailures ?? 0;
    const e = failureEffects(c, before, retrySettings(config.organization.retry), at, { mailboxId: mailbox.id, profileId: profile.id });
    await tx.runs.finishRun(runId, {
      result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: c.code, errorMessage: c.message,
      failure: { class: c.class, scope: c.scope, nextAttemptAt: e.nextAttemptAt },
    });
    await recordFailure(tx, {
      mailboxId: mailbox.id, direction, code: c.code, class: c.class, scope: c.scope, message: c.message, at,
      alerts: e.alerts, disableBy: e.disable ? 'system' : null,
    });
    return e;
  });
  const { decision } = effects;
  const fields = { code: c.code, class: c.class, scope: c.scope, err: c.message, consecutive: decision.consecutiveFailures };
  if (decision.action === 'disable') log.error(fields, `${direction} cycle failed: direction disabled`);
  else log.warn({ ...fields, retriesLeft: decision.retriesLeft, nextAttemptAt: new Date(decision.nextAttemptAt).toISOString() }, `${direction} cycle failed: will retry`);
  return {
    code: c.code, class: c.class, scope: c.scope, message: c.message,
    disabled: effects.disable, nextAttemptAt: effects.nextAttemptAt, consecutiveFailures: decision.consecutiveFailures,
  };
}
