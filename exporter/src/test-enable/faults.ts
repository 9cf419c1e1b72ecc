import type { Logger } from '../log.js';
import { FencedError, StoreUnavailableError, type Direction } from '../store/index.js';

export interface TestFaultCounts {
  /** A write the store refused or could not take (counted with the cycles' and scrapes'). */
  storeFault(): void;
  /** A write refused because the mailbox's lease moved to another runner. */
  fenced(direction: Direction): void;
}

/**
 * What a Test & Enable that ended in an error says. Two errors are not the test's or the mailbox's
 * failure and have nothing for a stack trace to add: the store that could not take the result
 * (the request stays pending in the store, so the next lease round runs it again once the store
 * takes writes) and a lease lost mid-test (its new holder finds the request the same way). Any
 * other error is a defect and is logged whole.
 */
export function reportTestFault(error: unknown, mailboxId: string, log: Logger, counts: TestFaultCounts): void {
  if (error instanceof StoreUnavailableError) {
    counts.storeFault();
    log.error({ mailbox: mailboxId, code: error.code, err: error.message },
      `Test & Enable could not be recorded: ${error.message}; it runs again once the store takes writes`);
    return;
  }
  if (error instanceof FencedError) {
    counts.fenced(error.fence.direction);
    log.warn({ mailbox: mailboxId, err: error.message }, 'Test & Enable stopped: the lease moved to another runner, which runs it');
    return;
  }
  log.error({ mailbox: mailboxId, err: error }, 'Test & Enable crashed');
}
