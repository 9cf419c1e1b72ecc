import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Secret } from '../config/index.js';

/**
 * Refresh tokens at rest: AES-256-GCM under a key derived with HKDF-SHA256 from
 * `store.encryptionKey` and a random salt per value; the login's key is the associated data, so a
 * value copied to another login's row does not open. The store holds only these bytes: reading
 * the file gives neither the token nor the key (docs/configuration.md: OAuth2).
 */
const VERSION = 1;
const INFO = Buffer.from('mailsync refresh token v1');

export function seal(plain: string, key: Secret, loginKey: string): Buffer {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(key, salt), nonce);
  cipher.setAAD(Buffer.from(loginKey));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), salt, nonce, cipher.getAuthTag(), body]);
}

/** The token, or undefined when the value was sealed under another key or for another login. */
export function open(sealed: Buffer, key: Secret, loginKey: string): string | undefined {
  if (sealed.length < 45 || sealed[0] !== VERSION) return undefined;
  const salt = sealed.subarray(1, 17);
  const nonce = sealed.subarray(17, 29);
  const tag = sealed.subarray(29, 45);
  try {
    const decipher = createDecipheriv('aes-256-gcm', derive(key, salt), nonce);
    decipher.setAAD(Buffer.from(loginKey));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(45)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * Which initial refresh token a stored one descends from, without keeping the token: when the
 * operator puts a new one in the config (after a revocation), the stored descendant of the old one
 * is no longer preferred.
 */
export function fingerprint(initial: string, key: Secret): string {
  return createHmac('sha256', key.reveal()).update(initial).digest('hex');
}

function derive(key: Secret, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key.reveal(), salt, INFO, 32));
}
