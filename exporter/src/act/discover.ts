import { ClassifiedError } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import { assertChannelAllowed } from '../protocols/channel.js';
import { statusError, tsdav } from './dav.js';

/** Redirects followed from /.well-known (RFC 6764 section 5 expects one; a few more are tolerated). */
const MAX_REDIRECTS = 3;
const PLACEHOLDER = /\{(localpart|address|user)\}/;

/**
 * Where a mailbox's calendars, task lists and address books live: the calendar home and the
 * address-book home (the same collection on many servers, then listed once). From the profile's
 * `act.url` (a home template, or a root whose principal is asked for), else by RFC 6764: the
 * `_caldavs._tcp`/`_carddavs._tcp` SRV records of the address's domain, then /.well-known/caldav
 * and /.well-known/carddav on the server found (or the domain itself).
 */
export async function findHomes(
  mailbox: Mailbox, profile: Profile, user: string, organization: Config['organization'], fetchImpl: typeof fetch, autodiscover: Autodiscover | undefined,
): Promise<string[]> {
  const act = profile.act;
  if (!act) throw new ClassifiedError('profile_invalid', `profile ${profile.id} has no act server (profiles[].act)`);
  if (act.url && PLACEHOLDER.test(act.url)) {
    const home = act.url.replaceAll('{address}', encodeURIComponent(mailbox.address))
      .replaceAll('{localpart}', encodeURIComponent(mailbox.address.split('@')[0] as string)).replaceAll('{user}', encodeURIComponent(user));
    allowed(home, organization);
    return [home];
  }
  const roots = act.url ? [act.url, act.url] : await wellKnown(mailbox.address, autodiscover);
  const homes = new Set<string>();
  for (const [i, root] of roots.entries()) {
    allowed(root, organization);
    const principal = await principalOf(root, fetchImpl);
    const prop = i === 0 ? 'c:calendar-home-set' : 'card:addressbook-home-set';
    const { propfind } = await tsdav.load();
    const [answer] = await propfind({ url: principal, depth: '0', props: { [prop]: {} }, fetch: fetchImpl });
    if (!answer?.ok) throw statusError(answer?.status ?? 0, `PROPFIND ${principal} (${prop.slice(prop.indexOf(':') + 1)})`);
    const set = (answer.props ?? {}) as Record<string, { href?: unknown } | undefined>;
    const href = hrefOf((i === 0 ? set.calendarHomeSet : set.addressbookHomeSet)?.href);
    if (href) homes.add(new URL(href, principal).href);
  }
  if (homes.size === 0) throw new ClassifiedError('mailbox_location_unknown', `no calendar or address-book home found for ${mailbox.address} at ${roots[0]}`);
  return [...homes];
}

/** The two starting points by RFC 6764: calendars first, then address books. */
async function wellKnown(address: string, autodiscover: Autodiscover | undefined): Promise<string[]> {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const out: string[] = [];
  for (const [service, path] of [['_caldavs._tcp', 'caldav'], ['_carddavs._tcp', 'carddav']] as const) {
    const srv = autodiscover ? await autodiscover.lookupSrv(`${service}.${domain}`) : null;
    out.push(srv ? `https://${srv.host}:${srv.port}/.well-known/${path}` : `https://${domain}/.well-known/${path}`);
  }
  return out;
}

/** The login's principal: PROPFIND current-user-principal, following /.well-known's redirect. */
async function principalOf(root: string, fetchImpl: typeof fetch): Promise<string> {
  let url = root;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await fetchImpl(url, {
      method: 'PROPFIND', headers: { depth: '0', 'content-type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>',
    });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      url = new URL(location, url).href;
      continue;
    }
    const text = await response.text();
    if (response.status !== 207) throw statusError(response.status, `PROPFIND ${url} (current-user-principal)`);
    const href = /current-user-principal>\s*<(?:\w+:)?href>([^<]+)</i.exec(text)?.[1];
    if (!href) throw new ClassifiedError('mailbox_location_unknown', `${url} names no principal for the login (current-user-principal)`);
    return new URL(href.trim(), url).href;
  }
  throw new ClassifiedError('protocol_error', `${root}: more than ${MAX_REDIRECTS} redirects`);
}

function allowed(url: string, organization: Config['organization']): void {
  const u = new URL(url);
  if (u.protocol === 'http:') assertChannelAllowed({ host: u.hostname, port: Number(u.port || 80), security: 'none' }, organization);
}

function hrefOf(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && '_text' in v) return String((v as { _text: unknown })._text);
  return null;
}
