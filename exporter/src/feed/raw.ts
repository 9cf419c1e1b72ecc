import type { Readable } from 'node:stream';
import type { Change, Store } from '../store/index.js';

/**
 * Below this, an email's raw bytes are read whole (one positional read of the pack, as the
 * baseline does); from it on they are streamed, so a page of 50 MB emails holds one chunk at a
 * time. The pack reader draws the same line (store/packs/reader.ts).
 */
export const RAW_WHOLE_BELOW = 1024 * 1024;

/**
 * The raw RFC 822 bytes of a stored email, for `include=raw`: whole, because the JSON page embeds
 * them as base64; the multipart page streams large ones instead (openRawEmail).
 */
export async function readRawEmail(store: Store, emailId: number): Promise<Buffer | undefined> {
  return store.mail.getRawEmail(emailId);
}

/**
 * The bytes of an `email_stored` change for a multipart page: a buffer for typical mail, a stream
 * (with the size the change recorded) for large mail; undefined when the bytes are gone.
 */
export async function openRawEmail(store: Store, change: Change): Promise<Buffer | { stream: Readable; size: number } | undefined> {
  if (change.refId === null) return undefined;
  const size = typeof change.data.size === 'number' ? change.data.size : undefined;
  if (size === undefined || size < RAW_WHOLE_BELOW) return store.mail.getRawEmail(change.refId);
  const stream = await store.mail.openRaw(change.refId);
  return stream && { stream, size };
}
