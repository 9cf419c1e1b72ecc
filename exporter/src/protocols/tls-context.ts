import { statSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { readCa } from './channel.js';

/** The TLS floor for every connection to a mail server. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * One TLS client context per CA file (and one for the system's CAs), shared by every connection
 * that trusts it. Given `ca` and no context, `tls.connect` builds a new OpenSSL context per
 * connection, parsing the CA file into a certificate store of its own: about 20 KB outside V8 for
 * a one-certificate file (13 KB with the system's CAs; measured for 1,000 contexts), more for a
 * bundle, held as long as the session is kept and freed only when V8 collects the context's JS
 * wrapper, plus a file read on every login. Reconnect churn left about 22 MB more anonymous
 * memory that way (bench:reconnect-memory, docs/reliability.md).
 *
 * The file's identity (inode, size, modification time) is checked at each connection, so a CA file
 * replaced in place is trusted from the next connection on, as when it was read every time.
 * Entries are as many as the distinct CA files the config names.
 */
const contexts = new Map<string, { stamp: string; context: SecureContext }>();

export function clientContext(caFile: string | undefined): SecureContext {
  const key = caFile ?? '';
  const stats = caFile === undefined ? undefined : statSync(caFile, { throwIfNoEntry: false });
  const stamp = stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : '';
  const cached = contexts.get(key);
  if (cached && cached.stamp === stamp && (caFile === undefined || stats)) return cached.context;
  // readCa names the profile's file in the error when it cannot be read (missing, unreadable).
  const ca = caFile === undefined ? undefined : readCa(caFile);
  const context = createSecureContext({ minVersion: MIN_TLS_VERSION, ...(ca ? { ca } : {}) });
  contexts.set(key, { stamp, context });
  return context;
}
