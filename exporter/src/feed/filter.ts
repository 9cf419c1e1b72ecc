import addressparser from 'nodemailer/lib/addressparser';
import { decideIncomingFilter, type IncomingFilter } from '../policy/incoming-filter.js';
import { referencedMessageIds } from '../incoming/headers.js';
import type { IngestedEmail, ItemFailureInput, Store } from '../store/index.js';

/**
 * Applies a mailbox's incoming filter to a fetched batch before it is committed: emails filtered
 * out are marked `publish: false` (stored, but kept out of the feed and webhooks) and get an
 * item-level failure with the filter's code. The Message-IDs the batch replies to are looked up in
 * the outgoing queue once per batch; the decision itself is policy/incoming-filter.ts.
 */
export async function applyIncomingFilter(
  store: Store, filter: IncomingFilter, emails: IngestedEmail[], failures: ItemFailureInput[],
): Promise<void> {
  if (filter.mode === 'all' || emails.length === 0) return;
  const referenced = new Map(emails.map((e) => [e.uid, filter.mode === 'responses' ? referencedMessageIds(e.raw) : []]));
  const ours = new Set(filter.mode === 'responses' ? await store.feed.outgoingMessageIds([...new Set([...referenced.values()].flat())]) : []);
  for (const e of emails) {
    const from = e.headers.from ? addressparser(e.headers.from, { flatten: true }).map((a) => a.address.toLowerCase()) : [];
    const decision = decideIncomingFilter(filter, { from, referenced: referenced.get(e.uid) ?? [] }, (id) => ours.has(id));
    if (decision.publish) continue;
    e.publish = false;
    failures.push({ uid: e.uid, code: decision.code, detail: decision.detail, size: e.raw.length });
  }
}
