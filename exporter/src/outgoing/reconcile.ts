import type { Config, Mailbox, OutgoingServer, Profile } from '../config/index.js';
import type { DirectionDeps } from '../directions/contract.js';
import type { Logger } from '../log.js';
import { openMailbox } from '../protocols/mailbox.js';

/**
 * Emails left in `sending` by a crash: did the server take them? With a Sent copy (the provider's
 * or ours) the Sent folder answers; found means sent, not found means the send never completed.
 * Without one there is no way to know, so the email is sent again with the same Message-ID
 * (at-least-once, documented). A reconciliation that cannot reach the mailbox fails the run and
 * leaves the emails in `sending`: nothing is resent blindly.
 */
export async function reconcile(
  mailbox: Mailbox, profile: Profile, server: OutgoingServer, config: Pick<Config, 'organization'>, deps: DirectionDeps, log: Logger,
): Promise<void> {
  const { store, clock } = deps;
  const interrupted = await store.outgoing.interrupted(mailbox.id);
  if (interrupted.length === 0) return;
  if (server.sentCopy === 'none') {
    for (const e of interrupted) {
      await store.outgoing.backToPending(e.id, clock.now(), 'interrupted send, outcome unknown and no Sent copy to check: sending again with the same Message-ID');
    }
    log.warn({ emails: interrupted.length }, 'interrupted sends will be sent again (no Sent copy to reconcile against: at-least-once)');
    return;
  }
  const session = await openMailbox(mailbox, profile, config.organization, { autodiscover: deps.autodiscover(), logger: log, tokens: deps.tokens });
  try {
    for (const e of interrupted) {
      const at = clock.now();
      if (await session.hasMessageId(server.sentFolder, e.messageId)) {
        await store.outgoing.markSent(e.id, at, 'found in the Sent folder after an interrupted send', profile.id, e.recipients.length, `reconciled: ${e.messageId} is in ${server.sentFolder}`);
      } else {
        await store.outgoing.backToPending(e.id, at, `reconciled: ${e.messageId} is not in ${server.sentFolder}, the send did not complete`);
      }
    }
    log.info({ emails: interrupted.length }, 'reconciled interrupted sends against the Sent folder');
  } finally {
    await session.close();
  }
}
