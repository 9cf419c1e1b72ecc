import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { LRUCache } from 'lru-cache';

/**
 * A bcrypt hash of a password nobody has: an unknown user costs the same bcrypt run as a known
 * one, so response times do not tell which user names exist.
 */
const NO_SUCH_USER_HASH = '$2b$10$oZReLRsnZ//gsEDKk5Hp9.2LtFwSaXjUFBKrvWaw3Be1aKuhaa5/S';

/** The user and password of an `Authorization: Basic` header, or undefined for anything else. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Checks basic-auth credentials against the web config's bcrypt hashes. A bcrypt run at cost 10
 * takes ~100 ms of CPU, and Prometheus scrapes every 15 s with the same credentials, so (as
 * exporter-toolkit does) a verified (user, hash, password) is remembered: the key is a SHA-256 of
 * the three, so no password is kept in memory as text, and a changed hash in a reloaded file no
 * longer matches. Only successes are kept; failures are bounded by FailedAuthLimiter instead.
 */
export class BasicAuthVerifier {
  readonly #verified = new LRUCache<string, true>({ max: 1_000 });

  /** True when `user` is configured and `password` matches its hash. */
  async verify(users: ReadonlyMap<string, string>, user: string, password: string): Promise<boolean> {
    const hash = users.get(user);
    const key = createHash('sha256').update(`${user}\0${hash ?? ''}\0${password}`).digest('base64');
    if (hash !== undefined && this.#verified.has(key)) return true;
    const matches = await bcrypt.compare(password, hash ?? NO_SUCH_USER_HASH);
    if (!matches || hash === undefined) return false;
    this.#verified.set(key, true);
    return true;
  }
}
