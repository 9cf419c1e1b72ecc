import type { DirectionCheck, Ownership } from '../directions/contract.js';

export type { DirectionCheck, Ownership };

export interface TestEnableResult {
  checks: DirectionCheck[];
  /** Directions the mailbox is configured for that this version cannot test yet. */
  untested: { direction: string; reason: string }[];
  /** What happened to the ownership mark: kept ours, took it over, or the server cannot store one. */
  ownership: Ownership;
}
