import type { Store } from './store.js';
import { SqliteStore } from './sqlite/store.js';
import { PostgresStore } from './postgres/store.js';
import type { PgSsl } from './postgres/pool.js';

export type * from './store.js';
export type * from './types.js';
export type * from './record-types.js';
export type * from './act-types.js';
export type * from './feed-types.js';
export type * from './definition-types.js';
export { DEFINITION_KINDS } from './definition-types.js';
export type * from './lease-types.js';
export { CHANGE_KINDS, DATA_JSON, DELIVERY_STATES } from './feed-types.js';
export { ChangeNotifier } from './notifier.js';
export { emptyLifecycle, OUTGOING_STATES, SCRAPE_COLUMNS } from './types.js';
export { RUN_HISTORY } from './sqlite/runs.js';
export { defaultPackDir, SqliteStore } from './sqlite/store.js';
export { PostgresStore } from './postgres/store.js';
export { describeUrl } from './postgres/faults.js';
export type { PgSsl, SslMode } from './postgres/pool.js';
export { StoreUnavailableError, type StoreFault } from './errors.js';
export { currentFence, fenceContext, FencedError, type Fence } from './fence.js';

export interface StoreOptions {
  /** Which database: the embedded SQLite file (default) or a shared PostgreSQL. */
  driver?: 'sqlite' | 'postgresql' | undefined;
  /** The SQLite file; ':memory:' for tests. */
  path: string;
  /** Where raw messages are written as pack files; default next to the SQLite file (`<path>.packs`). */
  packDir?: string | undefined;
  /** A: driver postgresql: where the database is and how to reach it. */
  postgresql?: { url: string; ssl?: PgSsl | undefined; poolSize?: number | undefined } | undefined;
  /** A: this runner's id, recorded on the runs it opens (PostgreSQL; several runners share the database). */
  runner?: string | undefined;
  /** A: an idle PostgreSQL connection broke (it is replaced); for the log. */
  onIdleError?: ((error: Error) => void) | undefined;
  /** B: PostgreSQL ends a session left idle in a transaction this long (the lease period). */
  idleInTransactionMs?: number | undefined;
}

/** Opens the configured store: SQLite (the embedded default) or PostgreSQL (shared by several runners). */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.driver === 'postgresql') {
    if (!options.postgresql) throw new Error('store.postgresql.url is required with store.driver postgresql');
    return PostgresStore.open({ ...options.postgresql, runner: options.runner, onIdleError: options.onIdleError, idleInTransactionMs: options.idleInTransactionMs });
  }
  return new SqliteStore({ path: options.path, ...(options.packDir !== undefined ? { packDir: options.packDir } : {}) });
}
