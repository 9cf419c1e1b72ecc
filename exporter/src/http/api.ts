import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { ApiToken, Role } from '../config/index.js';
import { actItemsQuery, actPushBody, actPushesQuery, type ActItemOperations } from '../mailboxes/act-items.js';
import type { EmailOperations } from '../mailboxes/emails.js';
import { MAX_PAGE_SIZE, OperationError, type Actor, type MailboxOperations } from '../mailboxes/operations.js';
import { DIRECTIONS, type Direction } from '@mailsync/contract';
import { OUTGOING_STATES, type OutgoingState } from '../store/index.js';
import { HEALTH_BUCKETS } from '../policy/health.js';
import { APPROVALS } from '../policy/approval.js';
import type { Logger } from '../log.js';
import type { FailedAuthLimiter } from './auth-failures.js';
import { authenticate } from './api-auth.js';
import { describeRequestError } from './errors.js';
import type { RouteHelpers } from '../feed/routes.js';

export interface ApiDeps {
  operations: MailboxOperations;
  emails: EmailOperations;
  /** C: appointments, contacts and tasks (absent in tests that do not need them). */
  act?: ActItemOperations;
  /** sync.outgoing.maxEmailBytes: bounds the JSON body of a queued email. */
  maxEmailBytes: () => number;
  /** Read on each request so a config reload changes the tokens. */
  tokens: () => ApiToken[];
  /** Unknown tokens: counted per client address (429 past the budget) and logged without the token. */
  failures?: FailedAuthLimiter;
  logger?: Pick<Logger, 'warn'>;
  /** The records API (records/routes.ts): reads only, for any authenticated token (viewer and up). */
  records?: Router;
  /** F: the change feed and webhook deliveries (feed/routes.ts), mounted with this router's helpers. */
  feed?: (helpers: RouteHelpers) => Router;
  /** C: profile and mailbox definitions (definitions/routes.ts), and where a running mailbox is defined. */
  definitions?: { routes: (helpers: RouteHelpers) => Router; mailboxSource: (id: string) => 'file' | 'api' | undefined };
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const DIRECTION = z.enum(DIRECTIONS as [Direction, ...Direction[]]);

const listQuery = z.strictObject({
  state: z.enum(['enabled', 'disabled']).optional(),
  health: z.enum(HEALTH_BUCKETS as [string, ...string[]]).optional(),
  profile: z.string().min(1).max(64).optional(),
  approval: z.enum(APPROVALS as [string, ...string[]]).optional(),
  q: z.string().max(200).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
});
const approvalBody = z.strictObject({ comment: z.string().max(500).optional() });
const MAILBOX_ID = z.string().min(1).max(64);
const actItemQuery = z.strictObject({ collection: z.string().min(1).max(1_000), href: z.string().min(1).max(1_000) });
/** POST /api/mailboxes/approve: exactly one selector (checked with the same words offline). */
const bulkApprovalBody = z.strictObject({
  ids: z.array(MAILBOX_ID).max(100_000).optional(),
  profile: z.string().min(1).max(64).optional(),
  all: z.literal(true, { error: 'must be true (leave it out otherwise)' }).optional(),
  comment: z.string().max(500).optional(),
});
const testEnableBody = z.strictObject({ thisOrganizationOnly: z.boolean().default(false), sendTestMessage: z.boolean().default(false) });
const address = z.email({ error: 'must be an email address' });
const addresses = z.union([address.transform((a) => [a]), z.array(address).max(1_000)]);
const emailBody = z.strictObject({
  to: addresses,
  cc: addresses.default([]),
  bcc: addresses.default([]),
  // RFC 5322 caps a header line at 998 characters.
  subject: z.string().max(998).regex(/^[^\r\n]*$/, { error: 'must be one line' }),
  text: z.string().optional(),
  html: z.string().optional(),
  attachments: z.array(z.strictObject({
    filename: z.string().min(1).max(255).regex(/^[^/\\\r\n]+$/, { error: 'must be a file name, not a path' }),
    contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, { error: 'must be a MIME type such as application/pdf' }).optional(),
    contentBase64: z.string().refine(isStrictBase64, { error: 'must be base64 (RFC 4648: A-Z a-z 0-9 + /, padded to a multiple of 4)' }),
  })).max(100).default([]),
}).refine((e) => e.text !== undefined || e.html !== undefined, { error: 'give text, html or both', path: ['text'] });
const emailsQuery = z.strictObject({
  state: z.enum(OUTGOING_STATES as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
const disableBody = z.strictObject({
  directions: z.array(DIRECTION).min(1).optional(),
  reason: z.string().trim().min(1, { error: 'say why (it is shown to whoever finds the mailbox disabled)' }).max(500),
});

/**
 * The admin API under /api: bearer tokens from the config, roles viewer < operator < admin.
 * Bodies and queries are validated strictly; every refusal is a JSON `{ error }` with a 4xx.
 */
export function createApi({ operations, emails, act, tokens, maxEmailBytes, failures, logger, records, feed, definitions }: ApiDeps): Router {
  const api = express.Router();
  // Authentication first: an unauthenticated client never gets its body read.
  api.use(authenticate(tokens, failures, logger));
  api.use(jsonBodiesOnly);
  // Before /mailboxes/:id/emails/:emailId, which would take "incoming" for an outgoing email id.
  if (records) api.use(records);

  // Base64 attachments grow by a third; the composed email is checked against the limit itself.
  const emailJson = (req: Request, res: Response, next: NextFunction) =>
    express.json({ limit: Math.ceil(maxEmailBytes() * 1.4) + 65_536, strict: false })(req, res, next);
  api.post('/mailboxes/:id/emails', needs('operator'), emailJson, async (req, res, next) => {
    try {
      const body = parse(emailBody, bodyOf(req), 'body');
      const result = await emails.queue(param(req), actor(res), {
        to: body.to, cc: body.cc, bcc: body.bcc, subject: body.subject, text: body.text, html: body.html,
        attachments: body.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') })),
      });
      res.status(202).json(result);
    } catch (error) {
      next(error);
    }
  });
  // A list of ids from a file can be long: 4 MB holds 100,000 of them.
  api.post('/mailboxes/approve', needs('operator'), express.json({ limit: '4mb', strict: false }), async (req, res) => {
    const { comment, ...selection } = parse(bulkApprovalBody, bodyOf(req), 'body');
    res.json(await operations.approveMany(selection, actor(res), comment));
  });
  // C: appointments, contacts and tasks (docs/api.md).
  if (act) mountAct(api, act);
  // strict: false so that a body which is JSON but not an object ("x", null) is named as such by
  // the schema, not called invalid JSON.
  api.use(express.json({ limit: '64kb', strict: false }));
  api.get('/mailboxes/:id/emails', needs('viewer'), async (req, res) => {
    const q = parse(emailsQuery, req.query, 'query');
    res.json({ items: await emails.list(param(req), q.state as OutgoingState | undefined, q.limit) });
  });
  api.get('/mailboxes/:id/emails/:emailId', needs('viewer'), async (req, res) => {
    const emailId = Number(req.params.emailId);
    if (!Number.isSafeInteger(emailId) || emailId < 1) throw new OperationError(400, 'email id must be a positive integer');
    res.json(await emails.get(param(req), emailId));
  });

  api.get('/mailboxes', needs('viewer'), async (req, res) => {
    const q = parse(listQuery, req.query, 'query');
    const { page, pageSize, ...filter } = q;
    const listed = await operations.list(filter as Parameters<MailboxOperations['list']>[0], page, pageSize);
    res.json(definitions ? { ...listed, items: listed.items.map((m) => ({ ...m, source: definitions.mailboxSource(m.id) })) } : listed);
  });
  api.get('/mailboxes/:id', needs('viewer'), async (req, res) => {
    const shown = await operations.show(param(req));
    res.json(definitions ? { ...shown, source: definitions.mailboxSource(param(req)) } : shown);
  });
  // C: POST /mailboxes, PUT/DELETE /mailboxes/:id, /profiles (admin).
  if (definitions) api.use(definitions.routes({ needs, parse, actor }));
  api.post('/mailboxes/:id/approve', needs('operator'), async (req, res) => {
    const body = parse(approvalBody, bodyOf(req), 'body');
    res.json(await operations.approve(param(req), actor(res), 'approved', body.comment));
  });
  api.post('/mailboxes/:id/reject', needs('operator'), async (req, res) => {
    const body = parse(approvalBody, bodyOf(req), 'body');
    res.json(await operations.approve(param(req), actor(res), 'rejected', body.comment));
  });
  api.post('/mailboxes/:id/test-enable', needs('operator'), async (req, res) => {
    const body = parse(testEnableBody, bodyOf(req), 'body');
    res.status(202).json(await operations.testEnable(param(req), actor(res), body));
  });
  api.post('/mailboxes/:id/disable', needs('operator'), async (req, res) => {
    const body = parse(disableBody, bodyOf(req), 'body');
    res.json(await operations.disable(param(req), actor(res), body));
  });
  api.get('/profiles/:id/alerts', needs('viewer'), async (req, res) => {
    res.json(await operations.profileAlerts(param(req)));
  });
  // F: /changes and /webhooks/deliveries.
  if (feed) api.use(feed({ needs, parse, actor }));
  api.use((_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });
  api.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof OperationError) return res.status(error.status).json({ error: error.message });
    // The body parser's and the router's own errors; anything else is mailsync's fault (app.ts answers 500).
    const known = describeRequestError(error, req);
    if (known) return res.status(known.status).json({ error: known.message });
    return next(error);
  });
  return api;
}

/** C: the appointments, contacts and tasks routes (their body parser takes up to 1 MiB of iCalendar). */
function mountAct(api: Router, act: ActItemOperations): void {
  api.get('/mailboxes/:id/act/items', needs('viewer'), async (req, res) => {
    res.json(await act.items(param(req), parse(actItemsQuery, req.query, 'query')));
  });
  api.get('/mailboxes/:id/act/item', needs('viewer'), async (req, res) => {
    const q = parse(actItemQuery, req.query, 'query');
    res.json(await act.item(param(req), q.collection, q.href));
  });
  api.post('/mailboxes/:id/act/pushes', needs('operator'), express.json({ limit: '1200kb', strict: false }), async (req, res) => {
    res.status(202).json(await act.queue(param(req), actor(res), parse(actPushBody, bodyOf(req), 'body')));
  });
  api.get('/mailboxes/:id/act/pushes', needs('viewer'), async (req, res) => {
    const q = parse(actPushesQuery, req.query, 'query');
    res.json({ items: await act.pushes(param(req), q.state, q.limit) });
  });
  api.get('/mailboxes/:id/act/pushes/:pushId', needs('viewer'), async (req, res) => {
    const pushId = Number(req.params.pushId);
    if (!Number.isSafeInteger(pushId) || pushId < 1) throw new OperationError(400, 'push id must be a positive integer');
    res.json(await act.pushOf(param(req), pushId));
  });
}

function needs(role: Role) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const a = actor(res);
    if (RANK[a.role] < RANK[role]) {
      res.status(403).json({ error: `this needs the ${role} role; token "${a.name}" has ${a.role}` });
      return;
    }
    next();
  };
}

function actor(res: Response): Actor {
  return res.locals.actor as Actor;
}

function param(req: Request): string {
  return String(req.params.id);
}

function parse<T extends z.ZodType>(schema: T, input: unknown, where: 'body' | 'query'): z.infer<T> {
  if (where === 'body' && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new OperationError(400, `body: must be a JSON object, not ${input === null ? 'null' : Array.isArray(input) ? 'a list' : `a ${typeof input}`}`);
  }
  if (where === 'query') {
    const repeated = Object.entries(input as Record<string, unknown>).find(([, v]) => Array.isArray(v));
    if (repeated) throw new OperationError(400, `query: ${repeated[0]} is given more than once`);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const reasons = result.error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.join('.') : where;
    return i.code === 'unrecognized_keys' ? `${where}: unknown key(s) ${i.keys.join(', ')}` : `${path}: ${i.message}`;
  });
  throw new OperationError(400, reasons.join('; '));
}

/** The parsed JSON body, or {} when the request had none (routes whose body is optional). */
function bodyOf(req: Request): unknown {
  return req.body === undefined ? {} : req.body;
}

/**
 * A mutation's body is JSON or nothing. Anything else (a form, text/plain) would be skipped by the
 * JSON parser and the action would apply as if no body had been sent.
 */
function jsonBodiesOnly(req: Request, res: Response, next: NextFunction): void {
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is('application/json')) {
    res.status(415).json({ error: `send the body as application/json (got ${req.get('content-type') ?? 'no Content-Type'})` });
    return;
  }
  next();
}

/** RFC 4648 base64, whitespace between lines allowed; a length base64 cannot have is refused, not truncated. */
export function isStrictBase64(text: string): boolean {
  const compact = text.replace(/[\r\n\t ]/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}
