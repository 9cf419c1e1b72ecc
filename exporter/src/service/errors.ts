import { statSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { describeUrl, openStore, StoreUnavailableError, type Store, type StoreOptions } from '../store/index.js';

/**
 * The runner could not start for a reason outside its config's validity: the store cannot be
 * opened, the listen address is taken. The message is one line naming the setting and the cause;
 * the CLI prints it without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** What `openStore` takes for the config's `store` section (A: the driver and its connection). */
export function storeOptions(store: Config['store'], extra: Pick<StoreOptions, 'runner' | 'onIdleError' | 'idleInTransactionMs'> = {}): StoreOptions {
  const pg = store.postgresql;
  return {
    driver: store.driver, path: store.path, packDir: store.packDir, ...extra,
    ...(pg ? { postgresql: { url: pg.url.reveal(), ssl: pg.ssl, poolSize: pg.poolSize } } : {}),
  };
}

/** Where the store is, for messages: the SQLite file, or host/port/database (never the url's password). */
export function storeName(store: Config['store']): string {
  return store.driver === 'postgresql' ? describeUrl(store.postgresql?.url.reveal() ?? '') : store.path;
}

/** Opens the store, or says in one line which setting points where and why it cannot be opened. */
export async function openStoreFor(store: Config['store'], extra: Pick<StoreOptions, 'runner' | 'onIdleError' | 'idleInTransactionMs'> = {}): Promise<Store> {
  if (store.driver === 'postgresql') return openPostgres(store, extra);
  const file = store.path;
  try {
    return await openStore(storeOptions(store, extra));
  } catch (error) {
    const reason = statSync(file, { throwIfNoEntry: false })?.isDirectory() ? 'it is a directory, not a file' : (error as Error).message;
    throw new StartupError(`store.path ${file}: cannot open the store: ${reason}`, { cause: error });
  }
}

/** The error names the setting and host/database, never the url's user or password (pg's own messages carry neither). */
async function openPostgres(store: Config['store'], extra: Pick<StoreOptions, 'runner' | 'onIdleError' | 'idleInTransactionMs'>): Promise<Store> {
  const url = store.postgresql?.url.reveal() ?? '';
  try {
    return await openStore(storeOptions(store, extra));
  } catch (error) {
    const cause = error instanceof StoreUnavailableError && error.cause instanceof Error ? error.cause : error;
    const reason = ((cause as Error).message || String(cause)).replaceAll(url, describeUrl(url));
    throw new StartupError(`store.postgresql.url ${describeUrl(url)}: cannot open the store: ${reason}`, { cause: error });
  }
}
