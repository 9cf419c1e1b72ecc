import { ClassifiedError } from '../classify/index.js';
import type { Mailbox, OutgoingServer, Profile } from '../config/index.js';
import { classifyFailure } from '../directions/classify.js';
import type { CycleConfig, CycleWork, DirectionDeps } from '../directions/contract.js';
import type { Logger } from '../log.js';
import { clearlyWithinLimits, DAY_MS, limitDecision } from '../policy/limits.js';
import { retrySettings } from '../policy/retry.js';
import { loginFor, smtpLoginFor } from '../protocols/login.js';
import { openMailbox } from '../protocols/mailbox.js';
import { loadSmtp, sendRaw, type SmtpTransports } from '../protocols/smtp.js';
import type { OutgoingEmail, OutgoingStore } from '../store/index.js';
import { reconcile } from './reconcile.js';
import { SentCopy } from './sent-copy.js';

/** What the worker does after an email: take the next one, or stop this cycle's sending. */
type Step = 'next' | 'stop';

/** An email the server accepted, not yet recorded as sent (that happens with the worker's next claim). */
interface Landed { email: OutgoingEmail; raw: Buffer; result: Awaited<ReturnType<typeof sendRaw>> }

/** A worker's claim: the next email and what to do with it, with its bytes when it is to be sent. */
type Claimed = { email: OutgoingEmail; step: Step } | { email: OutgoingEmail; step: 'send'; raw: Buffer };

/**
 * One outgoing cycle of a mailbox: reconcile sends a crash interrupted, then send what is due in
 * the Pending Send queue, oldest first, within the profile's limits. Each email is recorded as
 * `sending` before its connection opens and `sent` right after the server's 250, so a crash in
 * between is found and reconciled, never forgotten. A failure of one email (a rejected recipient)
 * fails that email; a failure of the mailbox (login, TLS, network) puts the email back in the
 * queue and throws, which the retry policy handles as for incoming mail.
 */
export async function outgoingCycle(
  mailbox: Mailbox, profile: Profile, config: CycleConfig, deps: DirectionDeps & { transports: SmtpTransports }, signal?: AbortSignal,
): Promise<CycleWork> {
  const log = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, direction: 'outgoing' });
  const server = profile.outgoing;
  if (!server) throw new ClassifiedError('profile_invalid', `profile ${profile.id} has no outgoing server`);
  await reconcile(mailbox, profile, server, config, deps, log);
  await loadSmtp();
  const run = new SendRun(mailbox, profile, server, config, deps, log);
  // A stop aborts the sends under way instead of waiting out a hung connection; what was in flight
  // stays `sending` or goes back to the queue, and the next start reconciles it as after a crash.
  const abortSends = () => deps.transports.close(run.transport);
  signal?.addEventListener('abort', abortSends, { once: true });
  try {
    await run.sendDue(signal);
  } finally {
    signal?.removeEventListener('abort', abortSends);
    await run.sentCopy.close();
  }
  const { sent, failedByCode } = run;
  const failed = Object.values(failedByCode).reduce((a, b) => a + b, 0);
  if (sent > 0) await deps.store.outgoing.pruneSendLog(deps.clock.now());
  const work: CycleWork = { itemsProcessed: sent + failed, itemsFailed: failed, stored: 0, failedByCode, aborted: signal?.aborted ?? false, folders: [] };
  if (run.postponedUntil === undefined) return work;
  // A postponed email brings the next scan forward, never later than the regular scan.
  const scanAt = deps.clock.now() + config.sync.outgoing.scanIntervalSeconds * 1_000;
  return { ...work, nextDueAt: Math.min(run.postponedUntil, scanAt) };
}

/** The sends of one cycle: up to the profile's connection limit side by side, started in queue order. */
class SendRun {
  sent = 0;
  postponedUntil: number | undefined;
  readonly failedByCode: Record<string, number> = {};
  readonly sentCopy: SentCopy;
  readonly #inFlight = { messages: 0, recipients: 0 };
  readonly #login;
  readonly transport;
  #due: OutgoingEmail[] = [];
  #next = 0;
  #stop = false;
  #nearLimit = false;
  #mailboxError: unknown;
  /** Claims waiting for their turn (see #inTurn). */
  #claims: Promise<void> = Promise.resolve();

  constructor(
    readonly mailbox: Mailbox, readonly profile: Profile, readonly server: OutgoingServer, readonly config: CycleConfig,
    readonly deps: DirectionDeps & { transports: SmtpTransports }, readonly log: Logger,
  ) {
    this.sentCopy = new SentCopy(() => openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover(), logger: log, tokens: deps.tokens }), server.sentFolder, log);
    this.#login = loginFor(mailbox, profile);
    this.transport = deps.transports.get(
      { ...server, timeouts: profile.timeouts }, smtpLoginFor(this.#login.login, deps.tokens), config.organization,
    );
  }

  async sendDue(signal: AbortSignal | undefined): Promise<void> {
    const { store, clock } = this.deps;
    this.#due = await store.outgoing.due(this.mailbox.id, clock.now(), this.config.sync.outgoing.batchSize);
    const worker = async () => {
      let landed: Landed | undefined;
      for (;;) {
        const claimed = await this.#inTurn(() => this.#claim(landed, signal));
        if (landed && this.server.sentCopy === 'append') await this.sentCopy.append(landed.raw, landed.email);
        if (claimed === undefined) return;
        const outcome = claimed.step === 'send' ? await this.#send(claimed.email, claimed.raw) : { step: claimed.step };
        landed = outcome.landed;
        if (outcome.step === 'stop') this.#stop = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.server.maxConnections, this.#due.length) }, worker));
    if (this.#nearLimit && this.#mailboxError === undefined) {
      // One at a time from here: every decision sees every earlier send.
      this.#stop = false;
      await worker();
    }
    if (this.#mailboxError !== undefined) throw this.#mailboxError;
  }

  /**
   * Runs `fn` after every earlier claim has finished. Claims (take the next email, apply the
   * limits, mark it sending) go one at a time, so each decision sees every send already under way;
   * the sends themselves run side by side.
   */
  #inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#claims.then(fn);
    this.#claims = run.then(() => undefined, () => undefined);
    return run;
  }

  /**
   * One transaction: the worker's last email `sent` (when the server just took it) and the next
   * email's claim. Grouping the two halves the commits per email; the window a crash can hit is
   * the same, since the commit still follows the 250 with no network I/O in between (only the
   * claims queued ahead, which are store work), and nothing is marked `sending` before its turn.
   * The claimed email's bytes are read in the same transaction: no second trip through the store.
   */
  async #claim(landed: Landed | undefined, signal: AbortSignal | undefined): Promise<Claimed | undefined> {
    return this.deps.store.transaction(async (tx) => {
      if (landed) await this.#recordSent(tx.outgoing, landed);
      if (this.#stop || signal?.aborted || this.#next >= this.#due.length) return undefined;
      const email = this.#due[this.#next++] as OutgoingEmail;
      const step = await this.#decide(email, tx.outgoing);
      return step === 'send' ? { email, step, raw: await tx.outgoing.raw(email.id) as Buffer } : { email, step };
    });
  }

  async #recordSent(outgoing: OutgoingStore, { email, result }: Landed): Promise<void> {
    const refused = result.rejected.length > 0 ? `; refused: ${result.rejected.join(', ')}` : '';
    await outgoing.markSent(email.id, this.deps.clock.now(), result.response, this.profile.id, result.accepted.length, `accepted: ${result.response}${refused}`);
    this.sent += 1;
  }

  /** Sends one claimed email; what the server accepted is recorded with the worker's next claim. */
  async #send(email: OutgoingEmail, raw: Buffer): Promise<{ step: Step; landed?: Landed }> {
    try {
      const result = await sendRaw(this.transport, email.envelopeFrom, email.recipients, raw, email.messageId);
      return { step: 'next', landed: { email, raw, result } };
    } catch (error) {
      return { step: await this.#sendFailed(email, error) };
    } finally {
      this.#inFlight.messages -= 1;
      this.#inFlight.recipients -= email.recipients.length;
    }
  }

  /** Applies the limits to one email: marks it sending (and counts it in flight), or says why not. */
  async #decide(email: OutgoingEmail, store: OutgoingStore): Promise<Step | 'send'> {
    const { clock } = this.deps;
    const now = clock.now();
    const limits = await this.#limitFor(email, now, store);
    if (limits === 'wait') return 'stop';
    if (limits.action === 'refuse') {
      await store.markFailed(email.id, now, 'send_rejected', limits.reason);
      this.#countFailed('send_rejected');
      return 'next';
    }
    if (limits.action === 'postpone') {
      // The limits are the profile's: every later email would wait too.
      await store.markPostponed(email.id, now, limits.until, limits.reason);
      this.postponedUntil = limits.until;
      return 'stop';
    }
    await store.markSending(email.id, now);
    this.#inFlight.messages += 1;
    this.#inFlight.recipients += email.recipients.length;
    return 'send';
  }

  /** The limits' decision for one more email, or 'wait' to let the sends in flight land first. */
  async #limitFor(email: OutgoingEmail, now: number, store: OutgoingStore): Promise<ReturnType<typeof limitDecision> | 'wait'> {
    const { limits } = this.server;
    // No limits configured: nothing to count, so the send log is not read (it grows with every send).
    if (limits.messagesPerMinute === undefined && limits.recipientsPerDay === undefined) return { action: 'send' };
    const totals = await store.sendTotals(this.profile.id, now);
    const busy = { messagesLastMinute: totals.messagesLastMinute + this.#inFlight.messages, recipientsLastDay: totals.recipientsLastDay + this.#inFlight.recipients };
    if (clearlyWithinLimits(busy, email.recipients.length, this.server.limits)) return { action: 'send' };
    // Near a limit: let the sends in flight land first, then decide on this one alone.
    if (this.#inFlight.messages > 0) {
      this.#next -= 1;
      this.#nearLimit = true;
      return 'wait';
    }
    return limitDecision(await store.sendsSince(this.profile.id, now - DAY_MS), email.recipients.length, this.server.limits, now);
  }

  async #sendFailed(email: OutgoingEmail, error: unknown): Promise<Step> {
    const { store, clock } = this.deps;
    const c = classifyFailure(error, 'outgoing', this.#login, this.log);
    const at = clock.now();
    if (c.level === 'item') {
      await store.outgoing.markFailed(email.id, at, c.code, c.message);
      this.#countFailed(c.code);
      this.log.warn({ email: email.id, code: c.code, err: c.message }, 'email refused by the outgoing server');
      return 'next';
    }
    if (c.code === 'sending_limit_exceeded' || c.code === 'provider_throttled') {
      // The provider's limits: the email waits, it has not failed and the mailbox is fine.
      const retry = retrySettings(this.config.organization.retry);
      this.postponedUntil = at + Math.min(c.retryAfterMs ?? retry.intervalMs, retry.maxBackoffMs);
      await store.outgoing.markPostponed(email.id, at, this.postponedUntil, c.message, c.code);
      this.log.warn({ email: email.id, code: c.code, until: new Date(this.postponedUntil).toISOString() }, 'provider limit reached: email postponed');
      return 'stop';
    }
    if (outcomeUnknown(c.code, error, this.server)) {
      // Left in `sending`: the next cycle's reconciliation asks the Sent folder, as after a crash.
      this.log.warn({ email: email.id, code: c.code, err: c.message }, 'connection lost during a send: outcome unknown, to be reconciled against the Sent folder');
    } else {
      await store.outgoing.backToPending(email.id, at, `not sent (${c.code}): ${c.message}`, c.code);
    }
    this.#mailboxError ??= error;
    return 'stop';
  }

  #countFailed(code: string): void {
    this.failedByCode[code] = (this.failedByCode[code] ?? 0) + 1;
  }
}

/**
 * Whether a send that failed may still have been delivered: the connection dropped with no reply
 * from the server, which may have taken the email and lost its 250 on the way (a resend would
 * deliver it twice). Only a server that files its own Sent copy can answer that later; otherwise
 * the email is sent again with the same Message-ID (at-least-once, as after a crash).
 */
export function outcomeUnknown(code: string, error: unknown, server: Pick<OutgoingServer, 'sentCopy'>): boolean {
  const replied = typeof (error as { responseCode?: unknown } | null)?.responseCode === 'number';
  return code === 'server_unavailable' && !replied && server.sentCopy === 'server';
}
