import type { ActCommit, ActItem } from './act-types.js';
import type { ChangeInput } from './feed-types.js';

/**
 * D: an item created, changed or deleted on the server is a change in the feed, appended in the
 * commit's transaction like the item's row and version (one change per version written, by
 * both drivers). The item's text is not in the change: it is `GET /api/mailboxes/{id}/act/item` away, and the feed's rows stay small.
 */
export function actChange(c: ActCommit, href: string, kind: ActItem['kind'], uid: string | null, version: number, etag: string | null, change: 'created' | 'updated' | 'deleted'): ChangeInput {
  return {
    kind: change === 'deleted' ? 'act_item_deleted' as const : 'act_item_changed' as const, mailboxId: c.mailboxId, refId: null, at: c.at,
    data: { collection: c.collection.href, href, kind, uid, etag, version, change },
  };
}
