import Database from 'better-sqlite3';
import { StoreUnavailableError, type StoreFault } from '../errors.js';

/** SQLite's primary result codes that mean "the storage", not "this statement" (sqlite.org/rescode.html). */
const FAULTS: Record<string, StoreFault> = {
  SQLITE_FULL: 'disk_full',
  SQLITE_IOERR: 'io_error',
  SQLITE_READONLY: 'read_only',
  SQLITE_CANTOPEN: 'cannot_open',
};

/**
 * Runs `fn` and turns a storage fault into StoreUnavailableError naming the file; every other
 * error (a constraint, a bug) passes through unchanged. Extended codes (SQLITE_IOERR_WRITE) count
 * under their primary code.
 */
export function storageFaults(file: string): <R>(fn: () => R) => R {
  return (fn) => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof Database.SqliteError) {
        const primary = /^SQLITE_[A-Z]+/.exec(error.code)?.[0] ?? error.code;
        const fault = FAULTS[primary];
        if (fault) throw new StoreUnavailableError(fault, error.code, file, { cause: error });
      }
      throw error;
    }
  };
}
