import type { RawConfig, SecretInput } from './schema.js';
import type { Secret } from './secret.js';
import type { Webhook } from './types.js';

/** Loopback receivers never leave the machine, so plain http to them exposes nothing. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
/** A shorter secret could be guessed and signatures forged; 32 hex characters are 128 bits. */
const MIN_SECRET_LENGTH = 16;

/**
 * The webhooks with their secrets read. A payload carries mail metadata (senders, subjects) and
 * its signature, so an http URL off loopback needs organization.allowNonTlsServers, like a mail
 * server without TLS.
 */
export function resolveWebhooks(raw: RawConfig, secret: (input: SecretInput, where: string) => Secret, problems: string[]): Webhook[] {
  const seen = new Set<string>();
  return raw.webhooks.map((w, i) => {
    const where = `webhooks[${i}]`;
    if (seen.has(w.id)) problems.push(`${where}.id: "${w.id}" is used by another webhook`);
    seen.add(w.id);
    const url = new URL(w.url);
    if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !raw.organization.allowNonTlsServers) {
      problems.push(`${where}.url: "${w.url}" is plain http; use https, or set organization.allowNonTlsServers (loopback hosts are exempt)`);
    }
    if (w.retryMaxSeconds < w.retryInitialSeconds) {
      problems.push(`${where}.retryMaxSeconds: must be at least retryInitialSeconds (${w.retryInitialSeconds})`);
    }
    const s = secret(w.secret, `${where}.secret`);
    if (s.source !== 'invalid' && s.reveal().length < MIN_SECRET_LENGTH) {
      problems.push(`${where}.secret: must be at least ${MIN_SECRET_LENGTH} characters (try: openssl rand -hex 32)`);
    }
    return { ...w, secret: s };
  });
}
