import type { Clock } from '../clock.js';
import type { ActPush, Store } from '../store/index.js';
import { statusError, type DavSession } from './dav.js';
import { contentTypeOf, loadItemReader, readItem } from './items.js';

export interface PushResult {
  pushed: number;
  failed: number;
  failedByCode: Record<string, number>;
}

interface PushDeps {
  store: Store;
  clock: Clock;
}

/**
 * Writes the changes queued through the admin API, oldest first, never blindly: a create carries
 * If-None-Match: *, an update or delete If-Match with the ETag it was made against. A 412 means
 * the server's item changed meanwhile: a conflict, kept with both versions (the server's wins in
 * the store, the local change stays on the push for an operator). A refusal of one item fails
 * that item; a failure of the login or the server (401, 403 on the home, 5xx, network) is the
 * mailbox's and is thrown, leaving the push pending for the next cycle.
 */
export async function pushPending(session: DavSession, homeUrl: string, mailboxId: string, deps: PushDeps, signal?: AbortSignal): Promise<PushResult> {
  await loadItemReader();
  const out: PushResult = { pushed: 0, failed: 0, failedByCode: {} };
  for (const p of await deps.store.act.pushes(mailboxId, 'pending', 500)) {
    if (signal?.aborted) break;
    const code = await pushOne(session, homeUrl, p, deps);
    if (code === null) out.pushed++;
    else {
      out.failed++;
      out.failedByCode[code] = (out.failedByCode[code] ?? 0) + 1;
    }
  }
  return out;
}

/** One push; the item-level code it failed with, or null when the server took it. */
async function pushOne(session: DavSession, homeUrl: string, p: ActPush, deps: PushDeps): Promise<string | null> {
  const url = new URL(p.href, homeUrl).href;
  const kind = p.href.endsWith('.vcf') ? 'addressbook' : 'calendar';
  if (p.data !== null) {
    const item = readItem(p.data, kind);
    if (item.ok && item.organizerMissing) {
      return fail(p, 'appointment_organizer_missing', `appointment ${item.uid ?? p.href} has attendees but no ORGANIZER: not pushed`, deps);
    }
  }
  const response = p.action === 'delete'
    ? await session.delete(url, p.baseEtag ?? '*')
    : await session.put(url, p.data ?? '', contentTypeOf(kind), p.action === 'create' ? null : p.baseEtag ?? '*');
  const text = await response.text();
  const status = response.status;
  if (status >= 200 && status < 300 || (p.action === 'delete' && status === 404)) {
    await deps.store.act.finishPush(p.id, { state: 'pushed', at: deps.clock.now(), serverEtag: response.headers.get('etag') });
    return null;
  }
  if (status === 412) {
    const server = await session.get(url);
    const why = p.action === 'create' ? 'an item already exists at this href' : 'the server\'s item changed since the ETag the change was made against';
    await deps.store.transaction(async (tx) => {
      await tx.act.finishPush(p.id, { state: 'conflict', at: deps.clock.now(), code: 'act_item_conflict',
        message: `${why} (HTTP 412): the server's version is kept, the local change is kept on this push for an operator`,
        serverEtag: server?.etag ?? null, serverData: server?.data ?? null });
      await tx.act.recordItemFailure(p.mailboxId, p.collection, { href: p.href, code: 'act_item_conflict', detail: `push ${p.id}: ${why}` }, deps.clock.now());
    });
    return 'act_item_conflict';
  }
  // The login or the server failed, not this item: the mailbox's failure, the push waits.
  if (status === 401 || status >= 500 || status === 429) throw statusError(status, `${p.action} ${url}`);
  return fail(p, 'act_item_rejected', `the server refused the ${p.action} (HTTP ${status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''})`, deps);
}

async function fail(p: ActPush, code: string, message: string, deps: PushDeps): Promise<string> {
  await deps.store.transaction(async (tx) => {
    await tx.act.finishPush(p.id, { state: 'failed', at: deps.clock.now(), code, message });
    await tx.act.recordItemFailure(p.mailboxId, p.collection, { href: p.href, code, detail: `push ${p.id}: ${message}` }, deps.clock.now());
  });
  return code;
}
