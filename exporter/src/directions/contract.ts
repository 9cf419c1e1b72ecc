import type { TokenSource } from '../auth/tokens.js';
import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import type { DirectionCheck } from '../policy/test-enable.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import type { Direction, Store } from '../store/index.js';

/** What every direction is given: the shared parts of the runner, read at the time of use. */
export interface DirectionDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Autodiscover of the current config (replaced on reload). */
  autodiscover: () => Autodiscover | undefined;
  /** A: OAuth2 access tokens, shared by every direction and protocol of a login (auth/tokens.ts). */
  tokens?: TokenSource;
  /**
   * G: asks the direction's scheduler to run the mailbox's cycle now, or right after the running
   * one (IMAP IDLE saw new mail). Absent where nothing schedules (sync-once, tests).
   */
  wake?: ((mailboxId: string, direction: 'incoming') => void) | undefined;
}

/** The part of the config a cycle reads. */
export type CycleConfig = Pick<Config, 'organization' | 'sync'>;

/** What a folder of an incoming cycle did (also the CLI's sync-once output). */
export interface FolderResult {
  folder: string;
  uidValidity: number;
  /** True when the server's UIDVALIDITY differed from the stored one and the folder was re-read. */
  uidValidityChanged: boolean;
  /** True when the folder was skipped after a STATUS showed nothing new. */
  unchanged: boolean;
  fetched: number;
  inserted: number;
  alreadyStored: number;
  failed: number;
  /** Item-level failures of this cycle by code (item_too_large, item_parse_failed). */
  failedByCode: Record<string, number>;
  lastUid: number;
  /**
   * G: for each message read after the folder's first sync, seconds from its arrival at the server
   * (INTERNALDATE) to its commit: how long new mail waited (mailsync_sync_lag_seconds).
   */
  lagSeconds?: number[];
}

/** What one cycle of a direction did, when the mailbox itself did not fail. */
export interface CycleWork {
  itemsProcessed: number;
  itemsFailed: number;
  /** Emails stored for the first time (incoming). */
  stored: number;
  failedByCode: Record<string, number>;
  /** True when the runner's stop interrupted the cycle at a safe point. */
  aborted: boolean;
  /** Incoming: what happened in each folder (empty for other directions). */
  folders: FolderResult[];
  /** When the direction wants its next cycle, if sooner than its interval (a postponed email). */
  nextDueAt?: number;
}

/** What the ownership mark check found (incoming only, for now). */
export type Ownership = 'marked' | 'taken_over' | 'unsupported' | 'not_checked';

export interface CheckOptions {
  /** Take the mailbox over from another organization's mark. */
  thisOrgOnly: boolean;
  /** Outgoing: send the mailbox a message to itself and wait for it. */
  sendTestMessage: boolean;
  /** Aborted when the runner stops. */
  signal?: AbortSignal | undefined;
}

/**
 * One direction of synchronization (incoming mail, outgoing mail, later appointments, contacts
 * and tasks): the one signature the scheduler, Test & Enable and the service know. Adding a
 * direction is one folder that exports one of these, and one entry in directions/registry.ts.
 */
export interface DirectionRunner {
  readonly name: Direction;
  /** How often the direction's cycle runs for a mailbox of `profile`. */
  intervalMs(config: Config, profile: Profile): number;
  /** How many cycles of one profile may run at once (the server's connection budget). */
  groupLimit(profile: Profile): number;
  /**
   * One cycle for a mailbox: does the work and returns what it did. Throws for a failure of the
   * mailbox (login, TLS, network); item failures are counted in the result instead.
   */
  cycle(mailbox: Mailbox, profile: Profile, config: CycleConfig, signal?: AbortSignal): Promise<CycleWork>;
  /** Test & Enable's check of the direction (connect, secure, authenticate, open). Never throws. */
  check(mailbox: Mailbox, profile: Profile, config: CycleConfig, options: CheckOptions): Promise<DirectionCheck & { ownership?: Ownership }>;
  /** Drops the mailbox's kept connections (it was disabled, or Test & Enable ran). */
  release(mailboxId: string): void;
  /** After a config reload: idle connections may belong to a changed server or password. */
  closeIdle(): void;
  /** Closes every connection (graceful stop). */
  close(): Promise<void>;
}

export type { DirectionCheck };

export type Directions = ReadonlyMap<Direction, DirectionRunner>;
