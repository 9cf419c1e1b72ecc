import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';

/**
 * Failed authentications per client address, as a token bucket: `burst` failures at once, then
 * `perMinute` more a minute. A client past its budget is answered 429 with Retry-After instead
 * of 401, so guessing tokens or passwords (each wrong basic-auth password costs a bcrypt run)
 * gets nowhere fast. Successful requests never touch a bucket. Addresses live in an LRU: a scan
 * from many addresses evicts the oldest buckets instead of growing memory.
 */
export interface FailureLimits {
  burst: number;
  perMinute: number;
  maxAddresses: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { burst: 5, perMinute: 5, maxAddresses: 10_000 };

export type FailureVerdict =
  | { limited: false }
  /** `first`: the first refusal since the address ran out (the one worth a log line). */
  | { limited: true; retryAfterSeconds: number; first: boolean };

interface Bucket {
  tokens: number;
  at: number;
  limited: boolean;
}

export class FailedAuthLimiter {
  readonly #buckets: LRUCache<string, Bucket>;

  constructor(readonly limits: FailureLimits, private readonly clock: Clock) {
    this.#buckets = new LRUCache({ max: limits.maxAddresses });
  }

  /** Counts one failed authentication from `address` and says whether to refuse it with 429. */
  fail(address: string): FailureVerdict {
    const now = this.clock.now();
    const perMs = this.limits.perMinute / 60_000;
    const old = this.#buckets.get(address) ?? { tokens: this.limits.burst, at: now, limited: false };
    const tokens = Math.min(this.limits.burst, old.tokens + (now - old.at) * perMs);
    if (tokens >= 1) {
      this.#buckets.set(address, { tokens: tokens - 1, at: now, limited: false });
      return { limited: false };
    }
    this.#buckets.set(address, { tokens, at: now, limited: true });
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1_000)), first: !old.limited };
  }

  /** How many addresses are remembered (for tests of the bound). */
  get size(): number {
    return this.#buckets.size;
  }
}
