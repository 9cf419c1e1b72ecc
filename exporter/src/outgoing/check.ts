import { randomUUID } from 'node:crypto';
import { ClassifiedError } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { classifyFailure } from '../directions/classify.js';
import type { CheckOptions, DirectionCheck, DirectionDeps } from '../directions/contract.js';
import { loginFor, smtpLoginFor, tokenStep } from '../protocols/login.js';
import { openMailbox } from '../protocols/mailbox.js';
import { composeEmail, loadSmtp, sendRaw, SmtpTransports, verifyTransport } from '../protocols/smtp.js';

/** How long the round trip may take before it counts as failed: providers deliver in seconds. */
const ROUND_TRIP_TIMEOUT_MS = 60_000;
const POLL_MS = 500;

/**
 * The outgoing check of Test & Enable: connect, secure the channel (STARTTLS required when
 * configured), authenticate; optionally send the mailbox a "now connected" email to itself and
 * wait for it over IMAP, recording the end-to-end latency.
 */
export async function checkOutgoing(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization'>, options: CheckOptions, deps: DirectionDeps,
): Promise<DirectionCheck> {
  const steps: string[] = [];
  const login = loginFor(mailbox, profile);
  const transports = new SmtpTransports();
  try {
    const server = profile.outgoing;
    if (!server) throw new ClassifiedError('profile_invalid', `profile ${profile.id} has no outgoing server`);
    const token = await tokenStep(login.login, deps.tokens, options.signal);
    if (token) steps.push(token);
    await loadSmtp();
    const transport = transports.get({ ...server, timeouts: profile.timeouts }, smtpLoginFor(login.login, deps.tokens), config.organization);
    await verifyTransport(transport);
    steps.push(`connected to ${server.host}:${server.port}${server.security === 'none' ? ' without TLS (allowed by the organization)' : ' over TLS'}`, 'authenticated');
    if (!options.sendTestMessage) return { direction: 'outgoing', ok: true, steps };

    const domain = mailbox.address.slice(mailbox.address.lastIndexOf('@') + 1);
    const messageId = `<test-${randomUUID()}@${domain}>`;
    const started = deps.clock.now();
    const raw = await composeEmail({
      from: mailbox.address, to: [mailbox.address], cc: [], bcc: [], subject: 'mailsync: your mailbox is now connected',
      text: 'This message was sent by mailsync to check that this mailbox can send and receive email. You can delete it.',
      html: undefined, attachments: [], messageId, date: new Date(started),
    });
    await sendRaw(transport, mailbox.address, [mailbox.address], raw, messageId);
    steps.push('sent a test message to the mailbox itself');
    const session = await openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover(), logger: deps.logger, signal: options.signal, tokens: deps.tokens });
    try {
      while (!(await session.hasMessageId('INBOX', messageId))) {
        if (deps.clock.now() - started > ROUND_TRIP_TIMEOUT_MS) {
          throw new ClassifiedError('server_unavailable', `the test message did not arrive in INBOX within ${ROUND_TRIP_TIMEOUT_MS / 1_000} s`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      await session.close();
    }
    const latencyMs = deps.clock.now() - started;
    steps.push(`the test message arrived in INBOX after ${latencyMs} ms`);
    return { direction: 'outgoing', ok: true, steps, latencyMs };
  } catch (error) {
    const c = classifyFailure(error, 'outgoing', login, deps.logger.child({ mailbox: mailbox.id }), { aborted: options.signal?.aborted ?? false });
    return { direction: 'outgoing', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message };
  } finally {
    transports.closeAll();
  }
}
