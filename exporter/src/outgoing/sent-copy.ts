import type { Logger } from '../log.js';
import type { ImapSession } from '../protocols/imap.js';
import type { OutgoingEmail } from '../store/index.js';

/**
 * `sentCopy: append`: each sent email goes to the Sent folder over one IMAP session per run,
 * opened on first use. The email is sent already; a failed copy is only logged.
 */
export class SentCopy {
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
