import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { FolderStatus, ImapSession, MessageSize } from '../protocols/imap.js';
import type { FolderResult } from '../directions/contract.js';
import type { FolderCursor, IngestedEmail, ItemFailureInput, Store } from '../store/index.js';
import { hasAttachmentParts } from './attachments.js';
import { applyIncomingFilter } from '../feed/filter.js';
import type { IncomingFilter } from '../policy/incoming-filter.js';
import { parseHeaderBlock } from './headers.js';

export interface IncomingOptions {
  batchSize: number;
  maxMessageBytes: number;
  /** 'all', or a YYYY-MM-DD date: where the first sync of a folder starts. */
  startFrom: string;
  /** mailboxes[].incoming.filter: which stored emails reach the change feed and webhooks. */
  filter?: IncomingFilter;
  /** A folder to leave open after reading it: the one the session then waits on in IDLE (push). */
  keepOpen?: string | undefined;
}

export interface IncomingDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

export interface IncomingResult {
  folders: FolderResult[];
  itemsProcessed: number;
  itemsFailed: number;
  /** True when the signal stopped the cycle between two batches. */
  aborted: boolean;
}

/**
 * One incoming cycle of one mailbox over an open session. Exactly once: each batch of emails and
 * the folder cursor are committed together, and the store keys emails by content, so whatever the
 * cycle is interrupted by, running it again neither skips nor duplicates a message.
 */
export async function syncIncoming(
  session: ImapSession,
  mailbox: { id: string; folders: string[] },
  options: IncomingOptions,
  deps: IncomingDeps,
  signal?: AbortSignal,
): Promise<IncomingResult> {
  const result: IncomingResult = { folders: [], itemsProcessed: 0, itemsFailed: 0, aborted: false };
  for (const folder of mailbox.folders) {
    if (signal?.aborted) {
      result.aborted = true;
      break;
    }
    // The configured name as the server spells it (namespace prefix, special-use): the cursor is kept under that path.
    const r = await syncFolder(session, mailbox.id, await session.resolveFolder(folder), options, deps, signal);
    result.folders.push(r);
    result.itemsProcessed += r.fetched;
    result.itemsFailed += r.failed;
    if (signal?.aborted) result.aborted = true;
  }
  return result;
}

async function syncFolder(
  session: ImapSession,
  mailboxId: string,
  folder: string,
  options: IncomingOptions,
  { store, clock, logger }: IncomingDeps,
  signal: AbortSignal | undefined,
): Promise<FolderResult> {
  const cursor = await store.mail.getCursor(mailboxId, folder);
  const resultFor = (uidValidity: number): FolderResult => ({
    folder, uidValidity, uidValidityChanged: false, unchanged: false,
    fetched: 0, inserted: 0, alreadyStored: 0, failed: 0, failedByCode: {}, lastUid: cursor?.lastUid ?? 0,
  });
  const read = async (opened: FolderStatus, result: FolderResult) => {
    try {
      return await readOpenFolder(session, mailboxId, folder, cursor, opened, result, options, { store, clock, logger }, signal);
    } finally {
      if (session.usable && folder !== options.keepOpen) await session.leaveFolder();
    }
  };
  const open = session.openFolder;
  // Left open by the watch that woke this cycle: the session's view is current (the server reported
  // the new mail to it), so the folder is read as it is, without STATUS or EXAMINE.
  if (open?.path === folder) return read(open, resultFor(open.uidValidity));
  // A folder never read before is read whatever STATUS would say: one round trip fewer on a first sync.
  if (!cursor) {
    const opened = await session.examine(folder);
    return read(opened, resultFor(opened.uidValidity));
  }

  // STATUS first: on a steady mailbox nothing else is sent, which is what keeps a no-change cycle cheap.
  const status = await session.status(folder);
  const result = resultFor(status.uidValidity);
  if (cursor.uidvalidity === status.uidValidity && status.uidNext - 1 <= cursor.lastUid) {
    result.unchanged = true;
    return result;
  }
  return read(await session.examine(folder), result);
}

async function readOpenFolder(
  session: ImapSession,
  mailboxId: string,
  folder: string,
  cursor: FolderCursor | undefined,
  opened: FolderStatus,
  result: FolderResult,
  options: IncomingOptions,
  { store, clock, logger }: IncomingDeps,
  signal: AbortSignal | undefined,
): Promise<FolderResult> {
  result.uidValidity = opened.uidValidity;
  let lastUid: number;
  if (!cursor) {
    lastUid = await startingPoint(session, options.startFrom, opened.uidNext);
  } else if (cursor.uidvalidity !== opened.uidValidity) {
    // The folder was recreated (or the server rebuilt its index): every UID is new. Reading it all
    // again is safe because emails are stored by content; only new locations are added.
    logger.warn({ mailbox: mailboxId, folder, old: cursor.uidvalidity, new: opened.uidValidity }, 'UIDVALIDITY changed; re-reading folder');
    result.uidValidityChanged = true;
    lastUid = 0;
  } else {
    lastUid = cursor.lastUid;
  }
  // A folder seen for the first time (or recreated) needs its cursor stored; the first batch's
  // commit stores it with the batch, so it is written apart only when no batch is (below). If the
  // cycle fails before then, the next one finds no cursor and works out the same starting point.
  let cursorStored = cursor !== undefined && !result.uidValidityChanged;

  const pending = await session.listAfter(lastUid);
  const batches: MessageSize[][] = [];
  for (let i = 0; i < pending.length; i += options.batchSize) batches.push(pending.slice(i, i + options.batchSize));
  // The next batch's FETCH is sent before this batch is committed, so the server streams it into
  // the socket while the store writes; otherwise each side idles
  // while the other works. A prefetched batch that is never committed is simply fetched again.
  let next = batches.length > 0 ? fetchBatch(session, batches[0] as MessageSize[], options.maxMessageBytes) : undefined;
  for (let b = 0; b < batches.length && next; b++) {
    const batch = batches[b] as MessageSize[];
    const { emails, failures, arrivals } = await next;
    next = b + 1 < batches.length && !signal?.aborted
      ? fetchBatch(session, batches[b + 1] as MessageSize[], options.maxMessageBytes)
      : undefined;
    // Keep an unawaited prefetch from surfacing as an unhandled rejection; awaiting it rethrows.
    next?.catch(() => undefined);
    lastUid = (batch[batch.length - 1] as MessageSize).uid;
    if (options.filter) await applyIncomingFilter(store, options.filter, emails, failures);
    const at = clock.now();
    const out = await store.mail.commitBatch({ mailboxId, folder, uidvalidity: opened.uidValidity, lastUid, emails, failures, at });
    cursorStored = true;
    // A first sync reads old mail: its age is not a delay, so only later cycles measure the lag.
    if (cursor && !result.uidValidityChanged) (result.lagSeconds ??= []).push(...lagsOf(arrivals, at));
    result.fetched += batch.length;
    result.inserted += out.inserted;
    result.alreadyStored += out.alreadyStored;
    result.failed += failures.length;
    logger.debug({ mailbox: mailboxId, folder, lastUid, batch: b + 1, batches: batches.length }, 'batch committed');
    for (const f of failures) {
      result.failedByCode[f.code] = (result.failedByCode[f.code] ?? 0) + 1;
      logger.warn({ mailbox: mailboxId, folder, uid: f.uid, code: f.code, detail: f.detail }, 'item failed');
    }
    if (signal?.aborted) break;
  }
  // A prefetch still running when the cycle stops is drained so the session stays usable.
  if (next) await next.catch(() => undefined);
  // Expunged messages leave UIDNEXT above the last UID seen; remember that so the STATUS fast path holds.
  const expunged = pending.length === 0 && !signal?.aborted && opened.uidNext - 1 > lastUid;
  if (expunged) lastUid = opened.uidNext - 1;
  if (expunged || !cursorStored) await store.mail.setCursor(mailboxId, folder, { uidvalidity: opened.uidValidity, lastUid }, clock.now());
  result.lastUid = lastUid;
  return result;
}

/** The cursor for a folder seen for the first time: before everything, or before the first UID since a date. */
async function startingPoint(session: ImapSession, startFrom: string, uidNext: number): Promise<number> {
  if (startFrom === 'all') return 0;
  const since = await session.searchSince(new Date(`${startFrom}T00:00:00Z`));
  return since.length > 0 ? (since[0] as number) - 1 : uidNext - 1;
}

async function fetchBatch(session: ImapSession, batch: MessageSize[], maxBytes: number) {
  const emails: IngestedEmail[] = [];
  const failures: ItemFailureInput[] = [];
  const wanted: number[] = [];
  const arrivals: number[] = [];
  for (const m of batch) {
    if (m.size > maxBytes) {
      failures.push({ uid: m.uid, code: 'item_too_large', detail: `message is ${m.size} bytes; the limit is ${maxBytes}`, size: m.size });
    } else {
      wanted.push(m.uid);
    }
  }
  for await (const { uid, source, internalDate } of session.fetchSources(wanted)) {
    if (internalDate !== undefined) arrivals.push(internalDate);
    const sha256 = createHash('sha256').update(source).digest();
    const parsed = parseHeaderBlock(source);
    // A message we cannot read is still kept, raw, so nothing is lost and it can be looked at.
    emails.push({ uid, raw: source, sha256, headers: parsed.headers, hasAttachments: hasAttachmentParts(source) });
    if (!parsed.ok) failures.push({ uid, code: 'item_parse_failed', detail: parsed.reason, size: source.length });
  }
  return { emails, failures, arrivals };
}

/** Seconds from each arrival to `at`; never negative (INTERNALDATE has whole seconds, clocks drift). */
function lagsOf(arrivals: number[], at: number): number[] {
  return arrivals.map((t) => Math.max(0, (at - t) / 1_000));
}
