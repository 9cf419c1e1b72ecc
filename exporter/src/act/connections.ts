import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import { readCa } from '../protocols/channel.js';
import type { TokenSource } from '../auth/tokens.js';
import type { ImapLogin } from '../protocols/imap.js';
import { loginFor, withAccessToken } from '../protocols/login.js';
import { DavSession } from './dav.js';
import { findHomes } from './discover.js';
import { DavHttp } from './http.js';

/**
 * The direction's kept state between cycles: one HTTP client (kept-alive connections, the
 * profile's CA) per profile, and each mailbox's discovered homes, so that a cycle with nothing new
 * is one PROPFIND per home. Both are dropped when the mailbox is released or the config reloaded.
 */
export class ActConnections {
  readonly #clients = new Map<string, { key: string; http: DavHttp }>();
  readonly #homes = new Map<string, { key: string; homes: string[] }>();

  /** The HTTP client of a profile (the same one while its act settings stay the same). */
  client(profile: Profile): DavHttp {
    const act = profile.act;
    const key = JSON.stringify([act?.caFile, act?.requestTimeoutSeconds, act?.maxConnections]);
    const kept = this.#clients.get(profile.id);
    if (kept?.key === key) return kept.http;
    kept?.http.close();
    const http = new DavHttp({
      ca: act?.caFile ? readCa(act.caFile) : undefined, timeoutMs: (act?.requestTimeoutSeconds ?? 60) * 1_000, maxSockets: act?.maxConnections ?? 4,
    });
    this.#clients.set(profile.id, { key, http });
    return http;
  }

  /**
   * A session as the mailbox's login, bound to the cycle's abort signal; an OAuth2 profile's
   * access token comes from the same cache as the login's IMAP, SMTP and POP3.
   */
  async session(mailbox: Mailbox, profile: Profile, signal?: AbortSignal, tokens?: TokenSource): Promise<{ session: DavSession; user: string; http: DavHttp }> {
    const login = await withAccessToken(loginFor(mailbox, profile).login, tokens, signal);
    const http = this.client(profile);
    return { session: new DavSession(http.fetchFor(signal), davAuthorization(login)), user: login.user, http };
  }

  /** The mailbox's homes, discovered once and kept while its address and profile's act settings stay the same. */
  async homes(mailbox: Mailbox, profile: Profile, organization: Config['organization'], s: { session: DavSession; user: string },
    autodiscover: Autodiscover | undefined, fresh = false): Promise<string[]> {
    const key = JSON.stringify([mailbox.address, profile.id, profile.act?.url, s.user]);
    const kept = this.#homes.get(mailbox.id);
    if (!fresh && kept?.key === key) return kept.homes;
    const homes = await findHomes(mailbox, profile, s.user, organization, s.session.fetch, autodiscover);
    this.#homes.set(mailbox.id, { key, homes });
    return homes;
  }

  release(mailboxId: string): void {
    this.#homes.delete(mailboxId);
  }

  closeAll(): void {
    for (const { http } of this.#clients.values()) http.close();
    this.#clients.clear();
    this.#homes.clear();
  }
}

/** HTTP authentication for a login: a bearer token for OAuth2 (RFC 6750), else Basic with the password. */
export function davAuthorization(login: ImapLogin): string {
  if (login.oauth) return `Bearer ${login.password.reveal()}`;
  return `Basic ${Buffer.from(`${login.user}:${login.password.reveal()}`).toString('base64')}`;
}
