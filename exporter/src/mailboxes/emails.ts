import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { composeEmail, type EmailContent } from '../protocols/smtp.js';
import type { OutgoingEmail, OutgoingEvent, OutgoingState, Store } from '../store/index.js';
import { OperationError, type Actor } from './operations.js';

/** What the operator gives; the sender, Message-ID and date are the queue's. */
export type NewEmail = Omit<EmailContent, 'from' | 'messageId' | 'date'>;

export interface EmailsDeps {
  config: () => Config;
  store: Store;
  clock: Clock;
  /** Look at the mailbox's Pending Send queue now rather than at the next scan. */
  wakeOutgoing: (mailboxId: string) => void;
}

export type EmailView = OutgoingEmail & { history?: OutgoingEvent[] };

/**
 * The Pending Send queue as operators use it: queue an email from a mailbox, read its state and
 * history. The MIME message is built once, here, with a Message-ID that every attempt reuses.
 */
export class EmailOperations {
  readonly #d: EmailsDeps;

  constructor(deps: EmailsDeps) {
    this.#d = deps;
  }

  async queue(mailboxId: string, actor: Actor, email: NewEmail): Promise<{ email: EmailView; warning?: string }> {
    if (actor.role === 'viewer') throw new OperationError(403, 'queueing an email needs the operator or admin role');
    const config = this.#d.config();
    const mailbox = config.mailboxes.find((m) => m.id === mailboxId);
    if (!mailbox) throw new OperationError(404, `no mailbox "${mailboxId}"`);
    const recipients = [...new Set([...email.to, ...email.cc, ...email.bcc].map((a) => a.toLowerCase()))];
    const now = this.#d.clock.now();
    const domain = mailbox.address.slice(mailbox.address.lastIndexOf('@') + 1);
    const messageId = `<${randomUUID()}@${domain}>`;
    const raw = await composeEmail({ from: mailbox.address, ...email, messageId, date: new Date(now) });
    const max = config.sync.outgoing.maxEmailBytes;
    if (raw.length > max) throw new OperationError(400, `the email is ${raw.length} bytes encoded, over sync.outgoing.maxEmailBytes (${max})`);
    const { store } = this.#d;
    const id = await store.transaction(async (tx) => {
      const queued = await tx.outgoing.queue({ mailboxId, messageId, envelopeFrom: mailbox.address, recipients, subject: email.subject, raw, at: now, by: actor.name });
      await tx.lifecycle.audit({ at: now, actor: actor.name, role: actor.role, action: 'queue_email', mailboxId, detail: { email: queued, messageId, recipients: recipients.length } });
      return queued;
    });
    this.#d.wakeOutgoing(mailboxId);
    const view = await this.get(mailboxId, id);
    // Queued anyway: it waits, visibly, as the product's Pending Send does, until sending works.
    const warning = !mailbox.outgoing
      ? 'the mailbox is not configured for outgoing email: the email stays Pending Send until it is'
      : (await store.runs.getDirectionState(mailboxId, 'outgoing'))?.disabled
        ? 'outgoing is disabled for this mailbox: the email stays Pending Send until Test & Enable'
        : undefined;
    return { email: view, ...(warning ? { warning } : {}) };
  }

  async get(mailboxId: string, id: number): Promise<EmailView> {
    const email = await this.#d.store.outgoing.get(id);
    if (!email || email.mailboxId !== mailboxId) throw new OperationError(404, `no email ${id} for mailbox "${mailboxId}"`);
    return { ...email, history: await this.#d.store.outgoing.history(id) };
  }

  async list(mailboxId: string, state: OutgoingState | undefined, limit: number): Promise<EmailView[]> {
    if (!this.#d.config().mailboxes.some((m) => m.id === mailboxId)) throw new OperationError(404, `no mailbox "${mailboxId}"`);
    return this.#d.store.outgoing.list(mailboxId, state, limit);
  }
}
