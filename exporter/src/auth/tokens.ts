import type { Clock } from '../clock.js';
import { ClassifiedError, taxonomyEntry } from '../classify/index.js';
import { Secret } from '../config/index.js';
import type { Logger } from '../log.js';
import type { TokenStore } from '../store/index.js';
import { requestToken, type TokenResponse } from './endpoint.js';
import { grantBody } from './grant.js';
import type { OAuthLogin } from './login.js';
import { fingerprint, open, seal } from './sealed.js';

/** What IMAP, SMTP and POP3 logins ask for: a current access token for a login, and to drop one the server refused. */
export interface TokenSource {
  /** A valid access token for the login: the cached one, or one fetched now (one request for all concurrent callers). */
  get(login: OAuthLogin, signal?: AbortSignal): Promise<Secret>;
  /** The server rejected `token`: forget it so the next `get` fetches a new one (a newer token is kept). */
  invalidate(login: OAuthLogin, token: Secret): void;
}

export interface TokenProviderDeps {
  store: { tokens: TokenStore };
  clock: Clock;
  logger: Logger;
  /** store.encryptionKey of the current config. */
  encryptionKey: () => Secret | undefined;
  /** Counts token requests (the benchmark and tests read it); optional. */
  onRequest?: (login: OAuthLogin) => void;
}

/** When the endpoint gives no lifetime: RFC 6749 leaves it open; an hour is what both big providers issue. */
const DEFAULT_LIFETIME_S = 3_600;
/** Refresh this long before expiry (or at 90 % of a short lifetime), so no login starts with a token about to expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/**
 * A request that failed for a transient reason is shared for this long: a fleet on one client-credentials login must not send
 * one request per mailbox to an endpoint that is down. Each mailbox still records its own
 * (transient) failure and retries on its own schedule.
 */
const FAILURE_HOLD_MS = 2_000;

interface Cached {
  token: Secret;
  refreshAt: number;
  expiresAt: number;
}

/**
 * Access tokens per login (auth/login.ts): cached until shortly before expiry, fetched once for
 * all concurrent callers, dropped when a server rejects them. A rotated refresh token is sealed
 * and written to the store before the access token it came with is used, so a crash right after
 * never leaves the store with a token the endpoint has already replaced.
 */
export class TokenProvider implements TokenSource {
  readonly #cache = new Map<string, Cached>();
  readonly #inFlight = new Map<string, Promise<Secret>>();
  readonly #failed = new Map<string, { at: number; error: unknown }>();
  readonly #deps: TokenProviderDeps;

  constructor(deps: TokenProviderDeps) {
    this.#deps = deps;
  }

  async get(login: OAuthLogin, signal?: AbortSignal): Promise<Secret> {
    const now = this.#deps.clock.now();
    const cached = this.#cache.get(login.key);
    if (cached && now < cached.refreshAt) return cached.token;
    const failed = this.#failed.get(login.key);
    if (failed && now - failed.at < FAILURE_HOLD_MS) throw failed.error;
    let flight = this.#inFlight.get(login.key);
    if (!flight) {
      flight = this.#fetch(login, signal).finally(() => this.#inFlight.delete(login.key));
      this.#inFlight.set(login.key, flight);
    }
    return flight;
  }

  invalidate(login: OAuthLogin, token: Secret): void {
    const cached = this.#cache.get(login.key);
    if (cached && cached.token.reveal() === token.reveal()) this.#cache.delete(login.key);
  }

  async #fetch(login: OAuthLogin, signal: AbortSignal | undefined): Promise<Secret> {
    const { clock, logger } = this.#deps;
    const started = clock.now();
    try {
      const refreshToken = login.settings.grant === 'refresh_token' ? await this.#currentRefreshToken(login) : undefined;
      const body = await grantBody(login, started, refreshToken);
      this.#deps.onRequest?.(login);
      const issued = await requestToken(login.settings.tokenUrl, body, {
        caFile: login.settings.caFile, timeoutMs: login.settings.timeoutSeconds * 1_000, signal,
      });
      if (issued.refreshToken !== undefined && issued.refreshToken !== refreshToken) await this.#persistRotated(login, issued.refreshToken);
      this.#failed.delete(login.key);
      const token = new Secret(issued.accessToken, 'oauth2');
      this.#cache.set(login.key, lifetime(token, issued, started));
      logger.debug({ login: login.label, expiresIn: issued.expiresIn }, 'obtained an OAuth2 access token');
      return token;
    } catch (error) {
      // Only an outage is shared: a refused grant is each mailbox's own answer, and after its fix
      // (consent granted, a new refresh token) Test & Enable must reach the endpoint at once.
      if (error instanceof ClassifiedError && taxonomyEntry(error.mailsyncCode).class === 'transient') this.#failed.set(login.key, { at: clock.now(), error });
      throw error;
    }
  }

  /** The stored rotated token when it descends from the configured one, else the configured one. */
  async #currentRefreshToken(login: OAuthLogin): Promise<string> {
    const initial = login.refreshToken?.reveal();
    if (initial === undefined) throw new ClassifiedError('profile_invalid', `${login.label} has no refreshToken`);
    const key = this.#key();
    const stored = await this.#deps.store.tokens.getRefreshToken(login.key);
    if (!stored || stored.initialFingerprint !== fingerprint(initial, key)) return initial;
    const rotated = open(stored.sealed, key, login.key);
    if (rotated === undefined) {
      this.#deps.logger.warn({ login: login.label }, 'the stored refresh token does not open with store.encryptionKey (changed key?); using the configured one');
      return initial;
    }
    return rotated;
  }

  async #persistRotated(login: OAuthLogin, rotated: string): Promise<void> {
    const initial = login.refreshToken?.reveal() ?? '';
    const key = this.#key();
    await this.#deps.store.tokens.putRefreshToken(login.key, {
      sealed: seal(rotated, key, login.key), initialFingerprint: fingerprint(initial, key), rotatedAt: this.#deps.clock.now(),
    });
    this.#deps.logger.info({ login: login.label }, 'the token endpoint rotated the refresh token; the new one is stored encrypted');
  }

  #key(): Secret {
    const key = this.#deps.encryptionKey();
    if (!key) throw new ClassifiedError('profile_invalid', 'store.encryptionKey is not set; it is required with grant refresh_token');
    return key;
  }
}

/** When to refresh: 5 minutes before expiry, or at 90 % of a lifetime shorter than that margin allows. */
function lifetime(token: Secret, issued: TokenResponse, started: number): Cached {
  const lifetimeMs = (issued.expiresIn ?? DEFAULT_LIFETIME_S) * 1_000;
  const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs * 0.1);
  // Counted from before the request: the endpoint's clock started when it answered, ours earlier.
  return { token, expiresAt: started + lifetimeMs, refreshAt: started + lifetimeMs - margin };
}
