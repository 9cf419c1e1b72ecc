import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `X-Mailsync-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the
 * scheme Stripe documents, so receivers can reuse what they know. Signing the timestamp with the
 * body lets a receiver refuse a replayed old request (docs/api.md: verifying webhooks).
 */
export const SIGNATURE_HEADER = 'X-Mailsync-Signature';

/** Receivers should refuse signatures older than this. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function signPayload(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * What a receiver does (the demo's sink and the tests use it): parse, refuse a stale or future
 * timestamp, and compare the HMAC in constant time.
 */
export function verifySignature(secret: string, body: string, header: string | undefined, nowSeconds: number,
  tolerance = SIGNATURE_TOLERANCE_SECONDS): Verification {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = new Map(header.split(',').map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
  }));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(nowSeconds - t) > tolerance) return { ok: false, reason: `timestamp ${t} is more than ${tolerance} s away from now` };
  const expected = Buffer.from(signPayload(secret, body, t).slice(`t=${t},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(v1, 'hex')) ? { ok: true } : { ok: false, reason: 'signature does not match' };
}
