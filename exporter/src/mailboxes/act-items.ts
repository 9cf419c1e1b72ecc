import { z } from 'zod';
import { loadItemReader, readItem } from '../act/items.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { ActItem, ActItemVersion, ActPush, ActPushState, Store } from '../store/index.js';
import { OperationError, type Actor } from './operations.js';

/** C: the body of POST /api/mailboxes/:id/act/pushes (docs/api.md). */
export const actPushBody = z.strictObject({
  action: z.enum(['create', 'update', 'delete']),
  collection: z.string().regex(/^\/\S*\/$/, { error: 'must be the collection\'s path as listed, such as /alice/calendar/' }).max(1_000),
  href: z.string().regex(/^\/\S+[^/]$/, { error: 'must be the item\'s path, such as /alice/calendar/meeting.ics' }).max(1_000).optional(),
  data: z.string().min(1).max(1_048_576).optional(),
  etag: z.string().min(1).max(200).optional(),
});
export type ActPushBody = z.infer<typeof actPushBody>;

export const actItemsQuery = z.strictObject({
  collection: z.string().max(1_000).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const actPushesQuery = z.strictObject({
  state: z.enum(['pending', 'pushed', 'conflict', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export interface ActItemsDeps {
  config: () => Config;
  store: Store;
  clock: Clock;
  /** Run the mailbox's ACT cycle now rather than at its interval. */
  wakeAct: (mailboxId: string) => void;
}

/**
 * Appointments, contacts and tasks as operators use them: read what was synced (with each item's
 * versions), and queue a create, update or delete for the server. A change is checked before it is
 * queued (the collection exists, the text is valid iCalendar or vCard, an update or delete names
 * an item and the ETag it was made against); the cycle then writes it with If-None-Match/If-Match.
 */
export class ActItemOperations {
  readonly #d: ActItemsDeps;

  constructor(deps: ActItemsDeps) {
    this.#d = deps;
  }

  async items(mailboxId: string, q: z.infer<typeof actItemsQuery>): Promise<{ collections: unknown[]; items: ActItem[] }> {
    this.#mailbox(mailboxId);
    const { store } = this.#d;
    return {
      collections: await store.act.collections(mailboxId),
      items: await store.act.items(mailboxId, { ...(q.collection ? { collection: q.collection } : {}), limit: q.limit, offset: q.offset }),
    };
  }

  async item(mailboxId: string, collection: string, href: string): Promise<ActItem & { versions: ActItemVersion[] }> {
    this.#mailbox(mailboxId);
    const item = await this.#d.store.act.item(mailboxId, collection, href);
    if (!item) throw new OperationError(404, `no item ${href} in collection ${collection} of mailbox "${mailboxId}"`);
    return { ...item, versions: await this.#d.store.act.versions(mailboxId, collection, href) };
  }

  async pushes(mailboxId: string, state: ActPushState | undefined, limit: number): Promise<ActPush[]> {
    this.#mailbox(mailboxId);
    return this.#d.store.act.pushes(mailboxId, state, limit);
  }

  async pushOf(mailboxId: string, id: number): Promise<ActPush> {
    const push = await this.#d.store.act.push(id);
    if (!push || push.mailboxId !== mailboxId) throw new OperationError(404, `no push ${id} for mailbox "${mailboxId}"`);
    return push;
  }

  async queue(mailboxId: string, actor: Actor, body: ActPushBody): Promise<{ push: ActPush; warning?: string }> {
    if (actor.role === 'viewer') throw new OperationError(403, 'changing appointments, contacts and tasks needs the operator or admin role');
    const mailbox = this.#mailbox(mailboxId);
    const { store, clock } = this.#d;
    const collections = await store.act.collections(mailboxId);
    const collection = collections.find((c) => c.href === body.collection);
    if (!collection) {
      throw new OperationError(404, `collection: no collection ${body.collection} synced for mailbox "${mailboxId}" (known: ${collections.map((c) => c.href).join(', ') || 'none yet'})`);
    }
    if (body.action !== 'delete' && body.data === undefined) throw new OperationError(400, `data: required to ${body.action} an item`);
    if (body.action === 'delete' && body.data !== undefined) throw new OperationError(400, 'data: not used to delete an item; remove it');
    let href = body.href;
    if (body.data !== undefined) {
      await loadItemReader();
      const reading = readItem(body.data, collection.kind);
      if (!reading.ok) throw new OperationError(400, `data: ${reading.error}`);
      href ??= `${collection.href}${encodeURIComponent(reading.uid ?? String(clock.now()))}${collection.kind === 'calendar' ? '.ics' : '.vcf'}`;
    }
    if (href === undefined) throw new OperationError(400, `href: required to ${body.action} an item`);
    if (!href.startsWith(collection.href)) throw new OperationError(400, `href: ${href} is not in collection ${collection.href}`);
    let etag = body.etag ?? null;
    if (body.action !== 'create' && etag === null) {
      const stored = await store.act.item(mailboxId, collection.href, href);
      if (!stored || stored.deletedAt !== null) throw new OperationError(404, `href: no item ${href} synced in ${collection.href}; give etag to change it anyway`);
      etag = stored.etag;
    }
    const at = clock.now();
    const id = await store.transaction(async (tx) => {
      const queued = await tx.act.queuePush({ mailboxId, collection: collection.href, href: href!, action: body.action, data: body.data ?? null,
        baseEtag: body.action === 'create' ? null : etag, requestedBy: actor.name, at });
      await tx.lifecycle.audit({ at, actor: actor.name, role: actor.role, action: 'act_push_queued', mailboxId, detail: { push: queued, action: body.action, href } });
      return queued;
    });
    this.#d.wakeAct(mailboxId);
    const warning = !mailbox.act
      ? 'the mailbox is not configured for appointments, contacts and tasks (act: true): the change waits until it is'
      : (await store.runs.getDirectionState(mailboxId, 'act'))?.disabled
        ? 'act is disabled for this mailbox: the change waits until Test & Enable'
        : undefined;
    return { push: (await store.act.push(id))!, ...(warning ? { warning } : {}) };
  }

  #mailbox(mailboxId: string) {
    const mailbox = this.#d.config().mailboxes.find((m) => m.id === mailboxId);
    if (!mailbox) throw new OperationError(404, `no mailbox "${mailboxId}"`);
    return mailbox;
  }
}
