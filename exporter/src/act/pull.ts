import type { Clock } from '../clock.js';
import type { ActChange, ActCollectionState, ActItemFailureInput, Store } from '../store/index.js';
import type { DavChange, DavSession, HomeCollection } from './dav.js';
import { loadItemReader, readItem } from './items.js';

export interface PullResult {
  collections: number;
  /** Collections whose sync token (or ctag) had not moved: nothing was read. */
  unchanged: number;
  itemsProcessed: number;
  itemsFailed: number;
  stored: number;
  failedByCode: Record<string, number>;
}

interface PullDeps {
  store: Store;
  clock: Clock;
}

/**
 * Pulls every collection of a home whose state moved since the last cycle: RFC 6578
 * sync-collection from the stored token (a refused token is a full resync), or, on a server
 * without sync tokens, the ctag and then ETag comparison. Each collection's changes, item
 * failures and new token are committed together (exactly once across a crash).
 */
export async function pullHome(
  session: DavSession, homeUrl: string, collections: HomeCollection[], mailboxId: string, deps: PullDeps, signal?: AbortSignal,
): Promise<PullResult> {
  await loadItemReader();
  const stored = new Map((await deps.store.act.collections(mailboxId)).map((c) => [c.href, c]));
  const out: PullResult = { collections: collections.length, unchanged: 0, itemsProcessed: 0, itemsFailed: 0, stored: 0, failedByCode: {} };
  for (const c of collections) {
    if (signal?.aborted) break;
    const before = stored.get(c.href);
    if (before && unchangedSince(before, c)) {
      out.unchanged++;
      continue;
    }
    const url = new URL(c.href, homeUrl).href;
    const read = c.syncToken !== null
      ? await bySyncToken(session, url, c, before?.syncToken ?? null)
      : await byEtags(session, url, c, mailboxId, deps.store);
    const { changes, failures } = readChanges(read.changes, c);
    const state: ActCollectionState = { href: c.href, kind: c.kind, name: c.name, syncToken: read.token, ctag: c.ctag };
    const outcome = await deps.store.act.commit({ mailboxId, collection: state, changes, failures, full: read.full, at: deps.clock.now() });
    out.itemsProcessed += read.changes.length;
    out.stored += outcome.created + outcome.updated;
    out.itemsFailed += failures.length;
    for (const f of failures) out.failedByCode[f.code] = (out.failedByCode[f.code] ?? 0) + 1;
  }
  return out;
}

function unchangedSince(before: ActCollectionState, now: HomeCollection): boolean {
  if (now.syncToken !== null) return before.syncToken === now.syncToken;
  return now.ctag !== null && before.ctag === now.ctag;
}

async function bySyncToken(session: DavSession, url: string, c: HomeCollection, token: string | null) {
  const answer = await session.sync(url, c.kind, token);
  if ('invalidToken' in answer) {
    // The server forgot the token (expired, or the collection was rebuilt): read it all again.
    const full = await session.sync(url, c.kind, null);
    if ('invalidToken' in full) throw new Error(`${url} refused an empty sync token`);
    return { token: full.token ?? c.syncToken, changes: full.changes, full: true };
  }
  return { token: answer.token ?? c.syncToken, changes: answer.changes, full: token === null };
}

/** No sync token: the server's ETags against the stored ones, then each new or changed item. */
async function byEtags(session: DavSession, url: string, c: HomeCollection, mailboxId: string, store: Store) {
  const remote = await session.etags(url);
  const local = new Map((await store.act.items(mailboxId, { collection: c.href })).map((i) => [i.href, i.etag]));
  const changes: DavChange[] = [];
  for (const [href, etag] of remote) {
    if (local.get(href) === etag) continue;
    const item = await session.get(new URL(href, url).href);
    if (item) changes.push({ href, etag: item.etag || etag, data: item.data });
  }
  for (const href of local.keys()) if (!remote.has(href)) changes.push({ href, deleted: true });
  return { token: null, changes, full: false };
}

/**
 * The server's changes as the store keeps them. An item that cannot be read is stored raw with an
 * item_parse_failed record (nothing is lost); an appointment with attendees and no organizer is
 * not synchronized and gets the documented organizer code. Either way the rest of the collection syncs.
 */
function readChanges(dav: DavChange[], c: HomeCollection): { changes: ActChange[]; failures: ActItemFailureInput[] } {
  const changes: ActChange[] = [];
  const failures: ActItemFailureInput[] = [];
  for (const d of dav) {
    if ('deleted' in d) {
      changes.push(d);
      continue;
    }
    const item = readItem(d.data, c.kind);
    if (!item.ok) {
      failures.push({ href: d.href, code: 'item_parse_failed', detail: item.error });
      changes.push({ href: d.href, etag: d.etag, data: d.data, kind: c.kind === 'calendar' ? 'event' : 'contact', uid: null });
      continue;
    }
    if (item.organizerMissing) {
      failures.push({ href: d.href, code: 'appointment_organizer_missing', detail: `appointment ${item.uid ?? d.href} has attendees but no ORGANIZER: not synchronized` });
      continue;
    }
    changes.push({ href: d.href, etag: d.etag, data: d.data, kind: item.kind, uid: item.uid });
  }
  return { changes, failures };
}
