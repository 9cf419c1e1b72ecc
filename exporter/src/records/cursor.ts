import { OperationError } from '../mailboxes/operation-error.js';

/**
 * Opaque paging cursors: base64url of `kind:lastKey`. The kind stops a cursor of one list from
 * being replayed against another (an email id is not a failure id); clients are told to treat the
 * value as opaque, so the encoding can change without breaking them.
 */
export type CursorKind = 'emails' | 'failures';

export function encodeCursor(kind: CursorKind, key: number): string {
  return Buffer.from(`${kind}:${key}`, 'utf8').toString('base64url');
}

/** The last key of the previous page, or a 400 naming the `cursor` parameter. */
export function decodeCursor(kind: CursorKind, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const refuse = () => new OperationError(400, `cursor: "${cursor.slice(0, 64)}" is not a cursor of this list (pass the previous page's "next" unchanged)`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw refuse();
  const match = /^([a-z]+):([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || match[1] !== kind) throw refuse();
  const key = Number(match[2]);
  // Only the exact text we gave out: base64 has other spellings of the same bytes.
  if (!Number.isSafeInteger(key) || encodeCursor(kind, key) !== cursor) throw refuse();
  return key;
}

/** One page of records: emails today, appointments, contacts and tasks the same way later. */
export interface Page<T> {
  items: T[];
  /**
   * Where to continue from: after this page's last record (or the cursor given, when the page is
   * empty). Present on the last page too, so a consumer can come back later for what arrived since.
   */
  next: string | null;
  /** Whether more records matched when the page was read. */
  more: boolean;
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that there is more. */
export function pageOf<T extends { id: number }>(kind: CursorKind, rows: T[], limit: number, given: string | undefined): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: last ? encodeCursor(kind, last.id) : (given ?? null), more: rows.length > limit };
}
