import type { Store } from '../store/index.js';

/**
 * The raw RFC 822 bytes of a stored email, for `include=raw`. One function on purpose: the
 * records API brings a streaming read (`mail.openRaw`), and this is the one place to switch to it.
 */
export async function readRawEmail(store: Store, emailId: number): Promise<Buffer | undefined> {
  return store.mail.getRawEmail(emailId);
}
