import { createHash } from 'node:crypto';
import type { FolderResult } from '../../directions/contract.js';
import type { IngestedEmail, ItemFailureInput } from '../../store/index.js';
import type { IncomingDeps, IncomingOptions, IncomingResult } from '../folders.js';
import { applyIncomingFilter } from '../../feed/filter.js';
import { parseHeaderBlock } from '../headers.js';
import type { Pop3Session } from './client.js';

/** Where POP3 emails are located in the store: the maildrop is the INBOX, and UIDLs carry no UIDVALIDITY. */
export const POP3_FOLDER = 'INBOX';
export const POP3_UIDVALIDITY = 0;

export interface Pop3Options extends Pick<IncomingOptions, 'batchSize' | 'maxMessageBytes' | 'filter'> {
  /** DELE each message once its batch is committed (`incoming.pop3.deleteAfterSync`). */
  deleteAfterSync: boolean;
}

interface Listed {
  msgNo: number;
  uidl: string;
  size: number;
}

/**
 * One POP3 cycle, leave-on-server: the UIDLs not yet stored are retrieved and committed in
 * batches, each batch's emails and UIDLs in one transaction (a crash keeps both or neither, so
 * nothing is lost or stored twice). Emails are stored by content like IMAP ones, so a server
 * that renumbers its UIDLs (Dovecot derives them from UID and UIDVALIDITY) makes the messages be
 * retrieved again but stored once; UIDLs the server no longer lists are forgotten first, which
 * keeps the table the size of the maildrop.
 */
export async function syncPop3(
  session: Pop3Session, mailboxId: string, options: Pop3Options, { store, clock, logger }: IncomingDeps, signal?: AbortSignal,
): Promise<IncomingResult> {
  const listed = await session.listing();
  const pruned = await store.pop3.pruneMissing(mailboxId, listed.map((m) => m.uidl));
  const seen = await store.pop3.seenUidls(mailboxId);
  const pending = listed.filter((m) => !seen.has(m.uidl));
  if (pruned > 0) logger.info({ mailbox: mailboxId, pruned, new: pending.length }, 'POP3 UIDLs no longer on the server forgotten');
  const folder: FolderResult = {
    folder: POP3_FOLDER, uidValidity: POP3_UIDVALIDITY, uidValidityChanged: false, unchanged: pending.length === 0,
    fetched: 0, inserted: 0, alreadyStored: 0, failed: 0, failedByCode: {}, lastUid: 0,
  };
  const result: IncomingResult = { folders: [folder], itemsProcessed: 0, itemsFailed: 0, aborted: false };
  for (let i = 0; i < pending.length; i += options.batchSize) {
    if (signal?.aborted) {
      result.aborted = true;
      break;
    }
    const batch = pending.slice(i, i + options.batchSize);
    const { emails, failures } = await retrieveBatch(session, batch, options.maxMessageBytes);
    // The incoming filter reads the store, so it runs before the transaction, on the batch's
    // emails numbered 1..n; their UIDL ids are known only inside it.
    const staged = emails.map(({ email }, n) => ({ ...email, uid: n + 1 }));
    const filtered: ItemFailureInput[] = [];
    if (options.filter) await applyIncomingFilter(store, options.filter, staged, filtered);
    const uidlOf = (n: number) => (emails[n - 1] as { uidl: string }).uidl;
    const at = clock.now();
    const out = await store.transaction(async (tx) => {
      const ids = await tx.pop3.markSeen(mailboxId, batch.map((m) => m.uidl), at);
      const idOf = (uidl: string) => ids.get(uidl) as number;
      folder.lastUid = Math.max(folder.lastUid, ...ids.values());
      return tx.mail.commitBatch({
        mailboxId, folder: POP3_FOLDER, uidvalidity: POP3_UIDVALIDITY, lastUid: folder.lastUid, at,
        emails: staged.map((email) => ({ ...email, uid: idOf(uidlOf(email.uid)) })),
        failures: [
          ...failures.map(({ uidl, failure }) => ({ ...failure, uid: idOf(uidl) })),
          ...filtered.map((failure) => ({ ...failure, uid: idOf(uidlOf(failure.uid)) })),
        ],
      });
    });
    folder.fetched += batch.length;
    folder.inserted += out.inserted;
    folder.alreadyStored += out.alreadyStored;
    folder.failed += failures.length + filtered.length;
    for (const f of filtered) folder.failedByCode[f.code] = (folder.failedByCode[f.code] ?? 0) + 1;
    logger.debug({ mailbox: mailboxId, committed: folder.fetched, pending: pending.length }, 'batch committed');
    for (const { uidl, failure } of failures) {
      folder.failedByCode[failure.code] = (folder.failedByCode[failure.code] ?? 0) + 1;
      logger.warn({ mailbox: mailboxId, uidl, code: failure.code, detail: failure.detail }, 'item failed');
    }
    // Only after the commit: a message deleted before it was stored would be lost in a crash.
    if (options.deleteAfterSync) for (const m of batch) await session.dele(m.msgNo);
  }
  result.itemsProcessed = folder.fetched;
  result.itemsFailed = folder.failed;
  return result;
}

async function retrieveBatch(session: Pop3Session, batch: Listed[], maxBytes: number) {
  const emails: { uidl: string; email: IngestedEmail }[] = [];
  const failures: { uidl: string; failure: ItemFailureInput }[] = [];
  const wanted = new Map<number, Listed>();
  for (const m of batch) {
    if (m.size > maxBytes) {
      failures.push({ uidl: m.uidl, failure: { uid: 0, code: 'item_too_large', detail: `message is ${m.size} bytes; the limit is ${maxBytes}`, size: m.size } });
    } else {
      wanted.set(m.msgNo, m);
    }
  }
  for await (const { msgNo, source } of session.retrieve([...wanted.keys()])) {
    const { uidl } = wanted.get(msgNo) as Listed;
    const parsed = parseHeaderBlock(source);
    const sha256 = createHash('sha256').update(source).digest();
    // A message we cannot read is still kept, raw, as for IMAP.
    emails.push({ uidl, email: { uid: 0, raw: source, sha256, headers: parsed.headers } });
    if (!parsed.ok) failures.push({ uidl, failure: { uid: 0, code: 'item_parse_failed', detail: parsed.reason, size: source.length } });
  }
  return { emails, failures };
}
