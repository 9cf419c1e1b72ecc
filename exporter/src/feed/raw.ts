import type { Store } from '../store/index.js';

/**
 * The raw RFC 822 bytes of a stored email, for `include=raw`: whole, because the page embeds them
 * as base64 in its JSON (`mail.openRaw` streams them for the records API). One function, so that a
 * framing without base64 (docs/performance.md) changes only this.
 */
export async function readRawEmail(store: Store, emailId: number): Promise<Buffer | undefined> {
  return store.mail.getRawEmail(emailId);
}
