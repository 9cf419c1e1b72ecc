import { statSync } from 'node:fs';
import { openStore, type Store } from '../store/index.js';

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

/** Opens the store, or says in one line which setting points where and why it cannot be opened. */
export async function openStoreFor(file: string, packDir?: string): Promise<Store> {
  try {
    return await openStore({ path: file, packDir });
  } catch (error) {
    const reason = statSync(file, { throwIfNoEntry: false })?.isDirectory() ? 'it is a directory, not a file' : (error as Error).message;
    throw new StartupError(`store.path ${file}: cannot open the store: ${reason}`, { cause: error });
  }
}
