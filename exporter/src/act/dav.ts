import type { DAVResponse } from 'tsdav';
import { ClassifiedError } from '../classify/index.js';
import { lazyModule } from '../lazy.js';
import type { ActCollectionKind } from '../store/index.js';

/**
 * tsdav, loaded on first use: only CalDAV/CardDAV (act) profiles need it, and importing it costs
 * about 0.03 s of CPU at start-up (measured against bare node). discover.ts shares it.
 */
export const tsdav = lazyModule('tsdav', () => import('tsdav'));

/** The ownership mark: a WebDAV dead property on the calendar and address-book homes. */
export const OWNER_NS = 'urn:mailsync:ownership';
export const OWNER_PROP = 'mailsync-owner';

export interface HomeCollection {
  href: string;
  kind: ActCollectionKind;
  name: string | null;
  /** The components a calendar holds (VEVENT, VTODO); empty for address books. */
  components: string[];
  syncToken: string | null;
  ctag: string | null;
}

export interface HomeListing {
  owner: string | null;
  collections: HomeCollection[];
}

/** One server change of a collection read by `sync`. */
export type DavChange = { href: string; etag: string; data: string } | { href: string; deleted: true };

export type SyncAnswer = { token: string | null; changes: DavChange[] } | { invalidToken: true };

/**
 * The few WebDAV exchanges the direction needs, over tsdav's request helpers with our fetch (TLS,
 * timeouts, abort, request count) and the login's Authorization header. Every answer's HTTP status
 * is turned into the taxonomy here, so the cycle and Test & Enable classify alike.
 */
export class DavSession {
  readonly #fetch: typeof fetch;

  constructor(fetchImpl: typeof fetch, authorization: string) {
    this.#fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', authorization);
      return fetchImpl(input, { ...init, headers });
    };
  }

  get fetch(): typeof fetch {
    return this.#fetch;
  }

  /** The home and its collections in one PROPFIND (Depth 1): the ownership mark and each collection's sync state. */
  async listHome(homeUrl: string): Promise<HomeListing> {
    const { propfind } = await tsdav.load();
    const answers = await propfind({
      url: homeUrl, depth: '1', fetch: this.#fetch,
      props: {
        'd:resourcetype': {}, 'd:displayname': {}, 'd:sync-token': {}, 'cs:getctag': {}, 'c:supported-calendar-component-set': {},
        [`m:${OWNER_PROP}`]: { _attributes: { 'xmlns:m': OWNER_NS } },
      },
    });
    const failed = answers.find((a) => a.href === undefined || !a.ok);
    if (answers.length === 0 || (failed && (failed.status ?? 0) >= 300 && sameResource(failed.href ?? homeUrl, homeUrl))) {
      throw statusError(failed?.status ?? 0, `PROPFIND ${homeUrl}`);
    }
    let owner: string | null = null;
    const collections: HomeCollection[] = [];
    for (const a of answers) {
      if (!a.href || !a.ok) continue;
      const props = (a.props ?? {}) as Record<string, unknown>;
      if (sameResource(a.href, homeUrl)) {
        owner = textOf(props.mailsyncOwner);
        continue;
      }
      const type = (props.resourcetype ?? {}) as Record<string, unknown>;
      const kind = 'calendar' in type ? 'calendar' : 'addressbook' in type ? 'addressbook' : undefined;
      if (!kind) continue;
      collections.push({
        href: new URL(a.href, homeUrl).pathname, kind, name: textOf(props.displayname), components: componentsOf(props.supportedCalendarComponentSet),
        syncToken: textOf(props.syncToken), ctag: textOf(props.getctag),
      });
    }
    return { owner, collections };
  }

  /** Writes this organization's mark on a home (PROPPATCH). */
  async setOwner(homeUrl: string, owner: string): Promise<void> {
    const { davRequest } = await tsdav.load();
    const [answer] = await davRequest({
      url: homeUrl, fetch: this.#fetch,
      init: {
        method: 'PROPPATCH', namespace: 'd',
        body: { propertyupdate: { _attributes: { 'xmlns:d': 'DAV:', 'xmlns:m': OWNER_NS }, set: { prop: { [`m:${OWNER_PROP}`]: { _text: owner } } } } },
      },
    });
    if (!answer?.ok) throw statusError(answer?.status ?? 0, `PROPPATCH ${homeUrl} (ownership mark)`);
  }

  /**
   * RFC 6578 sync-collection with the item data in the same answer (one request per changed
   * collection). A token the server no longer accepts (403 valid-sync-token) is a full resync.
   */
  async sync(collectionUrl: string, kind: ActCollectionKind, token: string | null): Promise<SyncAnswer> {
    const data = kind === 'calendar' ? 'c:calendar-data' : 'card:address-data';
    const { syncCollection } = await tsdav.load();
    const answers = await syncCollection({
      url: collectionUrl, syncLevel: 1, syncToken: token ?? '', fetch: this.#fetch, headers: { depth: '1' },
      props: { 'd:getetag': {}, [data]: {} },
    });
    const first = answers[0];
    if (answers.length === 1 && first && !first.ok && first.href === collectionUrl) {
      if (first.status === 403 && JSON.stringify(first.raw ?? '').includes('valid-sync-token')) return { invalidToken: true };
      throw statusError(first.status ?? 0, `REPORT sync-collection ${collectionUrl}`);
    }
    const raw = first?.raw as { multistatus?: { syncToken?: unknown } } | undefined;
    const changes: DavChange[] = [];
    for (const a of answers) {
      if (!a.href) continue;
      const href = new URL(a.href, collectionUrl).pathname;
      if (a.status === 404) {
        changes.push({ href, deleted: true });
        continue;
      }
      const props = (a.props ?? {}) as Record<string, unknown>;
      const text = textOf(kind === 'calendar' ? props.calendarData : props.addressData);
      const etag = textOf(props.getetag);
      if (text !== null && etag !== null) changes.push({ href, etag, data: text });
    }
    return { token: textOf(raw?.multistatus?.syncToken), changes };
  }

  /** ETags of every item of a collection (servers without sync tokens: compared with the stored ones). */
  async etags(collectionUrl: string): Promise<Map<string, string>> {
    const { propfind } = await tsdav.load();
    const answers = await propfind({ url: collectionUrl, depth: '1', fetch: this.#fetch, props: { 'd:getetag': {} } });
    const out = new Map<string, string>();
    for (const a of answers) {
      const etag = textOf((a.props as Record<string, unknown> | undefined)?.getetag);
      if (a.href && a.ok && etag !== null) out.set(new URL(a.href, collectionUrl).pathname, etag);
    }
    return out;
  }

  async get(itemUrl: string): Promise<{ etag: string; data: string } | null> {
    const response = await this.#fetch(itemUrl, { method: 'GET' });
    if (response.status === 404) return null;
    if (!response.ok) throw statusError(response.status, `GET ${itemUrl}`);
    return { etag: response.headers.get('etag') ?? '', data: await response.text() };
  }

  /** PUT with If-None-Match: * (create) or If-Match (update): the server's state decides, never a blind overwrite. */
  async put(itemUrl: string, data: string, contentType: string, ifMatch: string | null): Promise<Response> {
    const { createObject, updateObject } = await tsdav.load();
    const headers = { 'content-type': `${contentType}; charset=utf-8` };
    return ifMatch === null
      ? createObject({ url: itemUrl, data, fetch: this.#fetch, headers: { ...headers, 'if-none-match': '*' } })
      : updateObject({ url: itemUrl, data, etag: ifMatch, fetch: this.#fetch, headers });
  }

  async delete(itemUrl: string, ifMatch: string): Promise<Response> {
    const { deleteObject } = await tsdav.load();
    return deleteObject({ url: itemUrl, etag: ifMatch, fetch: this.#fetch });
  }
}

/** An HTTP status the direction did not expect, in the taxonomy's words. */
export function statusError(status: number, what: string): ClassifiedError {
  if (status === 401) return new ClassifiedError('credentials_rejected', `${what}: the server rejected the credentials (HTTP 401)`);
  if (status === 403) return new ClassifiedError('insufficient_permissions', `${what}: the login may not read this collection (HTTP 403)`);
  if (status === 404) return new ClassifiedError('mailbox_not_found', `${what}: no such collection on the server (HTTP 404)`);
  if (status === 429) return new ClassifiedError('provider_throttled', `${what}: the server throttled the requests (HTTP 429)`);
  if (status >= 500) return new ClassifiedError('server_unavailable', `${what}: the server failed (HTTP ${status})`);
  return new ClassifiedError('protocol_error', `${what}: unexpected answer (HTTP ${status})`);
}

function sameResource(href: string, url: string): boolean {
  const a = new URL(href, url).pathname.replace(/\/?$/, '/');
  return a === new URL(url).pathname.replace(/\/?$/, '/');
}

/** tsdav's XML reader gives text as a string, a number, or an object with _text/_cdata. */
function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const v = value as { _text?: unknown; _cdata?: unknown };
    if (v._cdata !== undefined) return textOf(v._cdata);
    if (v._text !== undefined) return textOf(v._text);
  }
  return null;
}

function componentsOf(set: unknown): string[] {
  const comp = (set as { comp?: unknown } | undefined)?.comp;
  const list = Array.isArray(comp) ? comp : comp ? [comp] : [];
  return list.map((c) => (c as { _attributes?: { name?: string } })._attributes?.name).filter((n): n is string => typeof n === 'string');
}

export type { DAVResponse };
