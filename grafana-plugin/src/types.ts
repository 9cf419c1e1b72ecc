import type { Direction, Health } from '@mailsync/contract';

export type { SummaryOptions } from './options';
/** The buckets and directions are mailsync's own (the exporter writes them as labels). */
export { DIRECTIONS, HEALTH_BUCKETS, type Direction, type Health } from '@mailsync/contract';

export interface DirectionRow {
  enabled: boolean;
  /** The taxonomy code while the system keeps the direction disabled. */
  disabledCode: string | null;
  consecutiveFailures: number;
  /** Epoch ms. */
  lastSuccessAt: number | null;
  lastError: { code: string; class: string; scope: string; at: number } | null;
}

/** One mailbox, joined from the query results by its `mailbox` label. */
export interface MailboxRow {
  mailbox: string;
  address: string;
  profile: string;
  health: Health;
  directions: Partial<Record<Direction, DirectionRow>>;
  /** While Test & Enable is scheduled or running: when it was requested (epoch ms). */
  testStartedAt: number | null;
  /** Item-level failures recorded for the mailbox (each repeat counted), by direction and code. */
  itemFailures: { direction: string; code: string; count: number }[];
}
