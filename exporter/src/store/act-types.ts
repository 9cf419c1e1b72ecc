/**
 * C: what the store keeps of the appointments, contacts and tasks direction: per mailbox, the
 * server's collections with their sync state, every item once per (collection, href) with its ETag
 * and its history of versions, and the changes queued through the admin API for the server.
 */
export type ActKind = 'event' | 'task' | 'contact';
export type ActCollectionKind = 'calendar' | 'addressbook';

export interface ActCollectionState {
  href: string;
  kind: ActCollectionKind;
  name: string | null;
  /** RFC 6578 sync token the items below were read at; null when the server has none (ctag + ETags then). */
  syncToken: string | null;
  ctag: string | null;
}

/** One change the server reported for a collection: an item's new version, or its deletion. */
export type ActChange =
  | { href: string; etag: string; data: string; kind: ActKind; uid: string | null }
  | { href: string; deleted: true };

export interface ActItemFailureInput {
  href: string;
  code: string;
  detail: string;
}

export interface ActCommit {
  mailboxId: string;
  collection: ActCollectionState;
  changes: ActChange[];
  failures: ActItemFailureInput[];
  /** True for a full read (no token, or the server refused it): items not listed are gone from the server. */
  full: boolean;
  at: number;
}

export interface ActCommitOutcome {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

export interface ActItem {
  collection: string;
  href: string;
  kind: ActKind;
  uid: string | null;
  etag: string;
  data: string;
  version: number;
  deletedAt: number | null;
  updatedAt: number;
}

export interface ActItemVersion {
  version: number;
  change: 'created' | 'updated' | 'deleted';
  etag: string | null;
  data: string | null;
  at: number;
}

export type ActPushAction = 'create' | 'update' | 'delete';
export type ActPushState = 'pending' | 'pushed' | 'conflict' | 'failed';

export interface ActPushInput {
  mailboxId: string;
  collection: string;
  href: string;
  action: ActPushAction;
  /** The item's new text (create, update); null for a delete. */
  data: string | null;
  /** The ETag the change was made against (update, delete): the server must still have it. */
  baseEtag: string | null;
  requestedBy: string;
  at: number;
}

export interface ActPush extends ActPushInput {
  id: number;
  state: ActPushState;
  code: string | null;
  message: string | null;
  /** On a conflict: the server's version, kept beside the local change. */
  serverEtag: string | null;
  serverData: string | null;
  updatedAt: number;
}

export interface ActStore {
  collections(mailboxId: string): Promise<ActCollectionState[]>;
  /** The collection's changes, item failures and new sync state, in one transaction: exactly once across a crash. */
  commit(c: ActCommit): Promise<ActCommitOutcome>;
  items(mailboxId: string, options?: { collection?: string; includeDeleted?: boolean; limit?: number; offset?: number }): Promise<ActItem[]>;
  item(mailboxId: string, collection: string, href: string): Promise<ActItem | undefined>;
  versions(mailboxId: string, collection: string, href: string): Promise<ActItemVersion[]>;
  /** Item-level failure of a push (not pushed, conflict, refused): recorded against the item's href. */
  recordItemFailure(mailboxId: string, collection: string, failure: ActItemFailureInput, at: number): Promise<void>;
  queuePush(p: ActPushInput): Promise<number>;
  push(id: number): Promise<ActPush | undefined>;
  pushes(mailboxId: string, state?: ActPushState, limit?: number): Promise<ActPush[]>;
  finishPush(id: number, outcome: { state: Exclude<ActPushState, 'pending'>; at: number; code?: string | null; message?: string | null;
    serverEtag?: string | null; serverData?: string | null }): Promise<void>;
}
