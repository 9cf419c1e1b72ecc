import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Role } from '../config/index.js';
import type { Actor } from '../mailboxes/operation-error.js';
import { OperationError } from '../mailboxes/operation-error.js';
import { DELIVERY_STATES, type Change, type Store } from '../store/index.js';
import { MULTIPART_MIXED, writeJsonPage, writeMultipartPage } from './pages.js';

/** The router's own helpers (http/api.ts), passed in so this module does not import the router. */
export interface RouteHelpers {
  needs: (role: Role) => (req: Request, res: Response, next: NextFunction) => void;
  parse: <T extends z.ZodType>(schema: T, input: unknown, where: 'body' | 'query') => z.infer<T>;
  actor: (res: Response) => Actor;
}

export interface FeedRouteDeps {
  store: Store;
  clock: Clock;
  /** Aborts when mailsync stops: long-polls answer at once. */
  stopping: AbortSignal;
  /** Tells the webhook worker a replayed delivery is due. */
  wakeWebhooks: () => void;
  /** The configured webhooks' ids (read on each replay: a reload may have removed one). */
  webhooks?: () => readonly string[];
}

export const MAX_CHANGES_PAGE = 1_000;
export const MAX_WAIT_SECONDS = 60;

/** A cursor is what `next` returned: the sequence number of the last change seen, in decimal. */
const cursor = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, {
  error: 'must be a cursor returned as "next" by GET /api/changes (a decimal sequence number), or left out to start at the beginning',
});
const changesQuery = z.strictObject({
  after: cursor.default('0'),
  limit: z.coerce.number().int().min(1).max(MAX_CHANGES_PAGE).default(100),
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0),
  include: z.literal('raw', { error: 'must be "raw" (the raw bytes of each stored email: base64 in JSON, message/rfc822 parts with Accept: multipart/mixed) or left out' }).optional(),
});
const deliveriesQuery = z.strictObject({
  state: z.enum(DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

/** GET /api/changes, GET /api/webhooks/deliveries, POST /api/webhooks/deliveries/:id/replay (docs/api.md). */
export function feedRoutes({ store, clock, stopping, wakeWebhooks, webhooks }: FeedRouteDeps, { needs, parse, actor }: RouteHelpers): Router {
  const router = express.Router();
  router.get('/changes', needs('viewer'), async (req, res) => {
    const q = parse(changesQuery, req.query, 'query');
    const after = Number(q.after);
    let changes = await store.feed.changesAfter(after, q.limit);
    // Long-poll: wait for the next commit (or the deadline, or shutdown), then read once more.
    const deadline = clock.now() + q.wait * 1_000;
    while (changes.length === 0 && !stopping.aborted && clock.now() < deadline) {
      await store.changes.next(deadline - clock.now(), stopping);
      changes = await store.feed.changesAfter(after, q.limit);
    }
    const next = changes.length > 0 ? (changes[changes.length - 1] as Change).seq : after;
    // The JSON form stays the default (any Accept, or none); multipart only when asked for by name.
    const writePage = req.accepts(['application/json', MULTIPART_MIXED]) === MULTIPART_MIXED ? writeMultipartPage : writeJsonPage;
    await writePage(res, changes, next, q.include === 'raw' ? store : undefined);
  });
  router.get('/webhooks/deliveries', needs('viewer'), async (req, res) => {
    const q = parse(deliveriesQuery, req.query, 'query');
    res.json({ items: await store.feed.listDeliveries(q.state, q.limit) });
  });
  router.post('/webhooks/deliveries/:id/replay', needs('operator'), async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new OperationError(400, 'delivery id must be a positive integer');
    const who = actor(res);
    const at = clock.now();
    const replayed = await store.transaction(async (tx) => {
      const d = await tx.feed.delivery(id);
      if (!d) throw new OperationError(404, `no webhook delivery ${id}`);
      if (webhooks && !webhooks().includes(d.webhookId)) {
        throw new OperationError(409, `delivery ${id} is for webhook ${d.webhookId}, which is no longer in the config: add it back to replay`);
      }
      if (!(await tx.feed.replay(id, at))) throw new OperationError(409, `delivery ${id} is ${d.state}; only a dead delivery can be replayed`);
      await tx.lifecycle.audit({ at, actor: who.name, role: who.role, action: 'replay_webhook_delivery', detail: { delivery: id, webhook: d.webhookId, seq: d.seq } });
      return d;
    });
    wakeWebhooks();
    res.json({ delivery: id, webhook: replayed.webhookId, state: 'pending' });
  });
  return router;
}
