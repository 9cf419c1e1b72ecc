import type { Store } from './store.js';
import { SqliteStore } from './sqlite/store.js';

export type * from './store.js';
export type * from './types.js';
export type * from './record-types.js';
export type * from './act-types.js';
export type * from './feed-types.js';
export type * from './definition-types.js';
export { DEFINITION_KINDS } from './definition-types.js';
export type * from './lease-types.js';
export { CHANGE_KINDS, DELIVERY_STATES } from './feed-types.js';
export { ChangeNotifier } from './notifier.js';
export { emptyLifecycle, OUTGOING_STATES, SCRAPE_COLUMNS } from './types.js';
export { RUN_HISTORY } from './sqlite/runs.js';
export { defaultPackDir, SqliteStore } from './sqlite/store.js';
export { StoreUnavailableError, type StoreFault } from './errors.js';
export { currentFence, fenceContext, FencedError, type Fence } from './fence.js';

export interface StoreOptions {
  /** The SQLite file; ':memory:' for tests. */
  path: string;
  /** Where raw messages are written as pack files; default next to the SQLite file (`<path>.packs`). */
  packDir?: string | undefined;
}

/** Opens the configured store (SQLite, the embedded default). */
export async function openStore(options: StoreOptions): Promise<Store> {
  return new SqliteStore({ path: options.path, ...(options.packDir !== undefined ? { packDir: options.packDir } : {}) });
}
