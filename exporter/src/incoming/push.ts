import type { Mailbox, Profile } from '../config/index.js';
import type { FolderResult } from '../directions/contract.js';
import type { Logger } from '../log.js';
import type { FolderStatus, ImapSession } from '../protocols/imap.js';

/** IDLE watches one folder per connection; INBOX is where new mail arrives (RFC 3501 5.1). */
const PUSH_FOLDER = 'INBOX';

/**
 * After a cycle: leaves the session waiting in IDLE on INBOX when the profile asks for push and
 * the server offers it; else undefined (the mailbox is polled, as every other folder is). Mail that
 * arrived between the cycle's STATUS and the EXAMINE here wakes the mailbox at once, so nothing
 * waits in the gap for the next poll.
 */
export async function watchForNewMail(
  session: ImapSession, mailbox: Mailbox, profile: Profile, folders: FolderResult[],
  deps: { logger: Logger; wake: ((mailboxId: string, direction: 'incoming') => void) | undefined; reportsAtStart: number },
): Promise<IdleWatch | undefined> {
  const { wake, logger } = deps;
  const seen = folders.find((f) => f.folder.toUpperCase() === PUSH_FOLDER);
  if (!wake || !wantsPush(session, profile) || !seen || !session.usable) return undefined;
  const wakeMailbox = () => wake(mailbox.id, 'incoming');
  try {
    const { watch, status, reopened } = await IdleWatch.start(session, {
      folder: seen.folder, restartMs: profile.incoming.idleRestartSeconds * 1_000, onNewMail: wakeMailbox,
      // A kicked or dropped session: the cycle logs in again and watches anew (the pool drops the dead one).
      onLost: wakeMailbox, logger,
    });
    if (reopened) {
      if (status.uidValidity !== seen.uidValidity || status.uidNext - 1 > seen.lastUid) wakeMailbox();
    } else if (session.newMailReports > deps.reportsAtStart) {
      // The folder stayed open through the cycle: the server's reports during it are the only sign
      // of mail that came after the cycle's read (its UIDNEXT is the one of the EXAMINE).
      wakeMailbox();
    }
    return watch;
  } catch (error) {
    // The cycle's work is committed; a watch that could not start only means polling until the next one.
    logger.debug({ err: (error as Error).message }, 'could not wait in IDLE; polling');
    return undefined;
  }
}

/** Whether the session waits in IDLE on INBOX between cycles: the profile asks for it and the server has it. */
export function wantsPush(session: ImapSession, profile: Profile): boolean {
  return profile.incoming.push === 'idle' && session.supportsIdle;
}

/**
 * The folder a cycle leaves open for the watch that follows it: INBOX when pushed. A woken cycle
 * then reads INBOX in the session's current view (no CLOSE, STATUS and EXAMINE before, no CLOSE and
 * EXAMINE after): 4 round trips instead of 9 from the new mail to IDLE again.
 */
export function pushFolder(session: ImapSession, profile: Profile): string | undefined {
  return wantsPush(session, profile) ? PUSH_FOLDER : undefined;
}

export interface WatchOptions {
  folder: string;
  /**
   * How long one IDLE lasts before it is ended and issued again: RFC 2177 lets a server drop a
   * client idle for 30 minutes (Dovecot's limit is about that), so the default stays below it.
   */
  restartMs: number;
  /** The server reported new mail in the folder. */
  onNewMail: () => void;
  /** The connection ended while we waited (a kick, a restart, the network): not on our stop. */
  onLost: () => void;
  logger: Logger;
}

/**
 * A kept session waiting in IDLE on one folder between cycles, so that new mail starts the
 * mailbox's cycle at once instead of at the next poll. The watch never reads mail itself: it only
 * says "look now", and the cycle (with its gate, limits and exactly-once commits) does the rest.
 * A cycle abandons the watch before using the session; the folder stays open for it to read.
 */
export class IdleWatch {
  readonly #session: ImapSession;
  readonly #o: WatchOptions;
  #stopped = false;
  #unsubscribe: (() => void)[] = [];
  /** True while the loop waits in IDLE (or between two IDLEs). */
  get active(): boolean {
    return !this.#stopped;
  }

  /** How many times IDLE was ended and issued again on this session (for the log and tests). */
  restarts = 0;

  private constructor(session: ImapSession, options: WatchOptions) {
    this.#session = session;
    this.#o = options;
  }

  /**
   * Opens the folder read-only, unless the cycle left it open, and starts waiting in IDLE. Returns
   * the folder's status as the EXAMINE saw it (`reopened`), so the caller can tell whether mail
   * arrived since its cycle's STATUS.
   */
  static async start(session: ImapSession, options: WatchOptions): Promise<{ watch: IdleWatch; status: FolderStatus; reopened: boolean }> {
    const open = session.openFolder;
    const reopened = open?.path !== options.folder;
    const status = reopened ? await session.examine(options.folder) : open;
    const watch = new IdleWatch(session, options);
    watch.#unsubscribe.push(
      session.onNewMail(() => {
        if (!watch.#stopped) options.onNewMail();
      }),
      session.onClosed(() => {
        if (!watch.#stopped) options.onLost();
        watch.#stopped = true;
      }),
    );
    // Ends by itself when the IDLE does (a cycle's command, our restart timer's NOOP, a close).
    void watch.#run();
    options.logger.debug({ folder: options.folder, restartSeconds: options.restartMs / 1_000 }, 'waiting in IDLE for new mail');
    return { watch, status, reopened };
  }

  /**
   * Forgets the watch without a command: the session goes to a cycle (the IDLE ends with its first
   * command, imapflow sends DONE before any, and the folder stays open, so the cycle reads it
   * without opening it again), or it is about to be logged out or closed.
   */
  abandon(): void {
    this.#stopped = true;
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  async #run(): Promise<void> {
    while (!this.#stopped && this.#session.usable) {
      let restart: Promise<void> | undefined;
      const timer = setTimeout(() => {
        // A NOOP ends this IDLE (DONE first); the loop then issues the next one.
        if (!this.#stopped) restart = this.#session.noop().catch(() => undefined);
      }, this.#o.restartMs);
      let accepted = false;
      try {
        accepted = await this.#session.idle();
      } catch (error) {
        // The connection ended; onClosed tells the owner.
        this.#o.logger.debug({ err: (error as Error).message, folder: this.#o.folder }, 'IDLE ended by an error');
      } finally {
        clearTimeout(timer);
      }
      if (restart === undefined) {
        // Ended by our stop, a close, a refusal or the server itself. Only the first two are
        // expected; for the others the mailbox falls back to its poll (its next cycle watches
        // again) rather than issuing IDLE in a loop against a server that keeps ending it.
        if (!this.#stopped && this.#session.usable) {
          this.#o.logger.warn({ folder: this.#o.folder, refused: !accepted }, 'IDLE ended by the server; new mail waits for the next poll');
        }
        this.#stopped = true;
        return;
      }
      await restart;
      this.restarts += 1;
      if (!this.#stopped) this.#o.logger.debug({ folder: this.#o.folder, restarts: this.restarts }, 'IDLE re-issued');
    }
  }
}
