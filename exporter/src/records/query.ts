import { DIRECTIONS, type Direction } from '@mailsync/contract';
import { z } from 'zod';
import { OperationError } from '../mailboxes/operation-error.js';
import type { EmailFilter } from './emails.js';
import type { FailureFilter } from './failures.js';

/** Pages are capped so no answer holds more than this many records, whatever the client asks. */
export const MAX_RECORDS_PAGE = 500;
export const DEFAULT_RECORDS_PAGE = 100;

const time = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time such as 2026-12-01T09:00:00Z' }).transform((t) => Date.parse(t));
const text = z.string().min(1).max(200);
const paging = {
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(MAX_RECORDS_PAGE).default(DEFAULT_RECORDS_PAGE),
};

const emailsQuery = z.strictObject({
  folder: z.string().min(1).max(1_000).optional(),
  receivedSince: time.optional(),
  receivedUntil: time.optional(),
  from: text.optional(),
  subject: text.optional(),
  hasAttachments: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
  ...paging,
});

const failuresQuery = z.strictObject({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { error: 'must be a taxonomy code such as item_too_large' }).optional(),
  direction: z.enum(DIRECTIONS as [Direction, ...Direction[]]).optional(),
  since: time.optional(),
  until: time.optional(),
  ...paging,
});
const fleetFailuresQuery = failuresQuery.extend({ mailbox: z.string().min(1).max(64).optional() });

export interface Paging { cursor: string | undefined; limit: number }

export function emailsRequest(query: unknown): { filter: EmailFilter } & Paging {
  const { cursor, limit, subject, ...rest } = parse(emailsQuery, query);
  return { cursor, limit, filter: { ...defined(rest), ...(subject !== undefined ? { subjectContains: subject } : {}) } };
}

export function failuresRequest(query: unknown, fleet: boolean): { filter: FailureFilter; mailbox: string | undefined } & Paging {
  const q = parse(fleet ? fleetFailuresQuery : failuresQuery, query) as z.infer<typeof fleetFailuresQuery>;
  const { cursor, limit, mailbox, ...rest } = q;
  return { cursor, limit, mailbox, filter: defined(rest) };
}

/** A path id: a positive integer, or a 400 that names the parameter. */
export function positiveId(value: unknown, name: string, min = 1): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new OperationError(400, `${name}: must be an integer of at least ${min}`);
  }
  return n;
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const repeated = Object.entries(input as Record<string, unknown>).find(([, v]) => typeof v !== 'string');
  if (repeated) throw new OperationError(400, `query: ${repeated[0]} is given more than once`);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new OperationError(400, result.error.issues.map((i) => (i.code === 'unrecognized_keys'
    ? `query: unknown key(s) ${i.keys.join(', ')}`
    : `${i.path.join('.') || 'query'}: ${i.message}`)).join('; '));
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
