/**
 * The change feed and the webhook outbox, as the store keeps them. A change is written in the
 * same transaction as what it reports, so the feed can never show a change that did not commit,
 * nor miss one that did.
 */

/**
 * What a change reports. `act_item_changed` and `act_item_deleted` are the ACT direction's: an
 * appointment, contact or task created, changed or deleted on the server (store/sqlite/act.ts).
 */
export const CHANGE_KINDS = [
  'email_stored', 'direction_disabled', 'direction_enabled', 'outgoing_state', 'act_item_changed', 'act_item_deleted',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface ChangeInput {
  kind: ChangeKind;
  mailboxId: string;
  /** The row the change is about: email.id, outgoing_email.id; null for a direction change and an ACT item (named in data). */
  refId: number | null;
  at: number;
  data: Record<string, unknown>;
}

/**
 * On a change read from the store: its `data` as the store holds it, JSON text. The feed writes
 * that as it is instead of serialising `data` again (bench:feed: a third of a multipart page's
 * own work per change). A symbol, so that JSON.stringify of a change never shows it.
 */
export const DATA_JSON: unique symbol = Symbol('mailsync.change.dataJson');

export interface Change extends ChangeInput {
  /** Monotonic across the store: the order in which changes committed. */
  seq: number;
  readonly [DATA_JSON]?: string;
}

/** A webhook and the kinds it receives (from the config; set at start and on reload). */
export interface WebhookSubscription {
  id: string;
  kinds: readonly ChangeKind[];
}

export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface WebhookDelivery {
  id: number;
  webhookId: string;
  seq: number;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

/** The result of one delivery attempt, and what policy decided comes next. */
export interface DeliveryAttempt {
  at: number;
  /** The HTTP status, or null when no response came (refused, timeout, reset). */
  status: number | null;
  error: string | null;
  /** 'delivered', a retry time, or 'dead' once the budget is spent. */
  next: 'delivered' | 'dead' | { retryAt: number };
}

export interface OutboxStats {
  webhookId: string;
  pending: number;
  dead: number;
  /** created_at of the oldest pending delivery, or null when none is pending. */
  oldestPendingAt: number | null;
}
