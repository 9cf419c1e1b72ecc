import { ClassifiedError, classifyError } from '../classify/index.js';
import type { Config, Mailbox, OutgoingServer, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import { clearlyWithinLimits, DAY_MS, limitDecision } from '../policy/limits.js';
import { sendRaw, type SmtpTransports } from '../protocols/smtp.js';
import type { ImapSession } from '../protocols/imap.js';
import type { OutgoingEmail } from '../store/index.js';
import { openMailbox } from './connect.js';
import type { CycleDeps } from './cycle.js';
import { loginFor } from './login.js';
import { finishAborted, finishFailed, retrySettings, type CycleOutcome } from './run-record.js';

export interface OutgoingDeps extends CycleDeps {
  transports: SmtpTransports;
}

/** A successful outgoing run may ask to come back early: when the first postponed email is due. */
export type OutgoingOutcome = CycleOutcome & { postponedUntil?: number };

/**
 * One outgoing cycle of a mailbox: reconcile sends a crash interrupted, then send what is due in
 * the Pending Send queue, oldest first, within the profile's limits. Each email is recorded as
 * `sending` before its connection opens and `sent` right after the server's 250, so a crash in
 * between is found and reconciled, never forgotten. A failure of one email (a rejected recipient)
 * fails that email; a failure of the mailbox (login, TLS, network) puts the email back in the
 * queue and fails the run, which the retry policy handles as for incoming mail.
 */
export async function runOutgoingCycle(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization' | 'sync'>, deps: OutgoingDeps, signal?: AbortSignal,
): Promise<OutgoingOutcome> {
  const { store, clock, logger } = deps;
  const started = clock.now();
  const runId = store.startRun(mailbox.id, 'outgoing', started);
  const log = logger.child({ mailbox: mailbox.id, profile: profile.id, direction: 'outgoing' });
  const ctx = { runId, started, mailbox, profile, direction: 'outgoing' as const, organization: config.organization, store, clock, log };
  const failedByCode: Record<string, number> = {};
  let sent = 0;
  let postponedUntil: number | undefined;
  let sentCopy: SentCopy | undefined;
  try {
    const server = profile.outgoing;
    if (!server) throw new ClassifiedError('profile_invalid', `profile ${profile.id} has no outgoing server`);
    await reconcile(mailbox, profile, server, config, deps, log);

    sentCopy = new SentCopy(() => openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover, logger: log }), server.sentFolder, log);
    const login = loginFor(mailbox, profile);
    const transport = deps.transports.get(
      { ...server, timeouts: profile.timeouts }, { user: login.login.user, password: login.login.password }, config.organization,
    );
    // Up to the profile's connection limit, emails go out side by side, started in queue order.
    const due = store.outgoing.due(mailbox.id, clock.now(), config.sync.outgoing.batchSize);
    const inFlight = { messages: 0, recipients: 0 };
    let next = 0;
    let stop = false;
    let nearLimit = false;
    let mailboxError: unknown;
    const sendOne = async (email: OutgoingEmail): Promise<'next' | 'stop'> => {
      const now = clock.now();
      const totals = store.outgoing.sendTotals(profile.id, now);
      const busy = { messagesLastMinute: totals.messagesLastMinute + inFlight.messages, recipientsLastDay: totals.recipientsLastDay + inFlight.recipients };
      let limit: ReturnType<typeof limitDecision> = { action: 'send' };
      if (!clearlyWithinLimits(busy, email.recipients.length, server.limits)) {
        // Near a limit: let the sends in flight land first, then decide on this one alone.
        if (inFlight.messages > 0) {
          next -= 1;
          nearLimit = true;
          return 'stop';
        }
        limit = limitDecision(store.outgoing.sendsSince(profile.id, now - DAY_MS), email.recipients.length, server.limits, now);
      }
      if (limit.action === 'refuse') {
        store.outgoing.markFailed(email.id, now, 'send_rejected', limit.reason);
        failedByCode.send_rejected = (failedByCode.send_rejected ?? 0) + 1;
        return 'next';
      }
      if (limit.action === 'postpone') {
        // The limits are the profile's: every later email would wait too.
        store.outgoing.markPostponed(email.id, now, limit.until, limit.reason);
        postponedUntil = limit.until;
        return 'stop';
      }
      store.outgoing.markSending(email.id, now);
      const raw = store.outgoing.raw(email.id) as Buffer;
      inFlight.messages += 1;
      inFlight.recipients += email.recipients.length;
      try {
        const result = await sendRaw(transport, email.envelopeFrom, email.recipients, raw);
        const refused = result.rejected.length > 0 ? `; refused: ${result.rejected.join(', ')}` : '';
        store.outgoing.markSent(email.id, clock.now(), result.response, profile.id, result.accepted.length, `accepted: ${result.response}${refused}`);
        sent += 1;
      } catch (error) {
        const c = classifyError(error, { direction: 'outgoing', credentialSource: login.source });
        const at = clock.now();
        if (c.level === 'item') {
          store.outgoing.markFailed(email.id, at, c.code, c.message);
          failedByCode[c.code] = (failedByCode[c.code] ?? 0) + 1;
          log.warn({ email: email.id, code: c.code, err: c.message }, 'email refused by the outgoing server');
          return 'next';
        }
        if (c.code === 'sending_limit_exceeded' || c.code === 'provider_throttled') {
          // The provider's limits: the email waits, it has not failed and the mailbox is fine.
          const retry = retrySettings(config.organization);
          postponedUntil = at + Math.min(c.retryAfterMs ?? retry.intervalMs, retry.maxBackoffMs);
          store.outgoing.markPostponed(email.id, at, postponedUntil, c.message, c.code);
          log.warn({ email: email.id, code: c.code, until: new Date(postponedUntil).toISOString() }, 'provider limit reached: email postponed');
          return 'stop';
        }
        store.outgoing.backToPending(email.id, at, `not sent (${c.code}): ${c.message}`, c.code);
        mailboxError ??= error;
        return 'stop';
      } finally {
        inFlight.messages -= 1;
        inFlight.recipients -= email.recipients.length;
      }
      if (server.sentCopy === 'append') await sentCopy?.append(raw, email);
      return 'next';
    };
    const worker = async () => {
      while (!stop && !signal?.aborted && next < due.length) {
        if ((await sendOne(due[next++] as OutgoingEmail)) === 'stop') stop = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(server.maxConnections, due.length) }, worker));
    if (nearLimit && mailboxError === undefined) {
      // One at a time from here: every decision sees every earlier send.
      stop = false;
      await worker();
    }
    if (mailboxError !== undefined) throw mailboxError;
    if (sent > 0) store.outgoing.pruneSendLog(clock.now());
    const at = clock.now();
    const failed = Object.values(failedByCode).reduce((a, b) => a + b, 0);
    store.finishRun(runId, { result: 'success', at, itemsProcessed: sent + failed, itemsFailed: failed });
    if (sent + failed > 0) log.info({ sent, failed, seconds: (at - started) / 1_000 }, 'outgoing cycle finished');
    return {
      mailbox: mailbox.id, direction: 'outgoing', result: 'success', itemsProcessed: sent + failed, itemsFailed: failed, stored: 0,
      failedByCode, durationSeconds: (at - started) / 1_000, folders: [], ...(postponedUntil !== undefined ? { postponedUntil } : {}),
    };
  } catch (error) {
    return signal?.aborted ? finishAborted(ctx) : finishFailed(ctx, error);
  } finally {
    await sentCopy?.close();
  }
}

/**
 * Emails left in `sending` by a crash: did the server take them? With a Sent copy (the provider's
 * or ours) the Sent folder answers; found means sent, not found means the send never completed.
 * Without one there is no way to know, so the email is sent again with the same Message-ID
 * (at-least-once, documented). A reconciliation that cannot reach the mailbox fails the run and
 * leaves the emails in `sending`: nothing is resent blindly.
 */
async function reconcile(
  mailbox: Mailbox, profile: Profile, server: OutgoingServer, config: Pick<Config, 'organization'>, deps: OutgoingDeps, log: Logger,
): Promise<void> {
  const { store, clock } = deps;
  const interrupted = store.outgoing.interrupted(mailbox.id);
  if (interrupted.length === 0) return;
  if (server.sentCopy === 'none') {
    for (const e of interrupted) {
      store.outgoing.backToPending(e.id, clock.now(), 'interrupted send, outcome unknown and no Sent copy to check: sending again with the same Message-ID');
    }
    log.warn({ emails: interrupted.length }, 'interrupted sends will be sent again (no Sent copy to reconcile against: at-least-once)');
    return;
  }
  const session = await openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover, logger: log });
  try {
    for (const e of interrupted) {
      const at = clock.now();
      if (await session.hasMessageId(server.sentFolder, e.messageId)) {
        store.outgoing.markSent(e.id, at, 'found in the Sent folder after an interrupted send', profile.id, e.recipients.length, `reconciled: ${e.messageId} is in ${server.sentFolder}`);
      } else {
        store.outgoing.backToPending(e.id, at, `reconciled: ${e.messageId} is not in ${server.sentFolder}, the send did not complete`);
      }
    }
    log.info({ emails: interrupted.length }, 'reconciled interrupted sends against the Sent folder');
  } finally {
    await session.close();
  }
}

/**
 * `sentCopy: append`: each sent email goes to the Sent folder over one IMAP session per run,
 * opened on first use. The email is sent already; a failed copy is only logged.
 */
class SentCopy {
  #session: Promise<ImapSession> | undefined;

  constructor(readonly open: () => Promise<ImapSession>, readonly folder: string, readonly log: Logger) {}

  async append(raw: Buffer, email: OutgoingEmail): Promise<void> {
    try {
      this.#session ??= this.open();
      await (await this.#session).appendSent(this.folder, raw, new Date(email.queuedAt));
    } catch (error) {
      const broken = this.#session;
      this.#session = undefined;
      void broken?.then((session) => session.close(), () => undefined);
      this.log.warn({ email: email.id, err: (error as Error).message }, `sent, but the copy to ${this.folder} failed`);
    }
  }

  async close(): Promise<void> {
    const session = await this.#session?.catch(() => undefined);
    await session?.close();
  }
}
