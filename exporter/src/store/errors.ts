/** Why the store cannot take a read or a write right now: a fault of where it lives, not of the data. */
export type StoreFault = 'disk_full' | 'io_error' | 'read_only' | 'cannot_open' | 'unreachable';

const SAID: Record<StoreFault, string> = {
  disk_full: "the store's disk is full",
  io_error: "the store's disk failed to read or write",
  read_only: 'the store is read-only',
  cannot_open: 'the store file cannot be opened',
  // A: PostgreSQL refused, dropped or shut down the connection (the database, not the data).
  unreachable: 'the store database cannot be reached',
};

/**
 * The store could not do what was asked because of its storage (full disk, I/O error), the same
 * for every mailbox. Drivers throw this instead of their own errors so that callers can tell it
 * from a mailbox's failure: a cycle that meets it records nothing against the mailbox (no retry
 * consumed, no disable) and its work is simply done again once the store takes writes.
 */
export class StoreUnavailableError extends Error {
  readonly fault: StoreFault;
  /** The driver's own code, e.g. SQLITE_FULL. */
  readonly code: string;

  constructor(fault: StoreFault, code: string, where: string, options?: ErrorOptions) {
    super(`${SAID[fault]} (${code}, ${where})`, options);
    this.name = 'StoreUnavailableError';
    this.fault = fault;
    this.code = code;
  }
}
