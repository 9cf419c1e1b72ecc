import type { Config } from '../config/index.js';
import { OperationError } from '../mailboxes/operation-error.js';
import type { ItemFailureQuery, ItemFailureRecord, Store } from '../store/index.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';

export type FailureFilter = Omit<ItemFailureQuery, 'mailboxId' | 'beforeId' | 'limit'>;

/**
 * Item-level failures (the product's "Incoming Emails Failed To Sync"), newest record first: of
 * one mailbox or of the fleet. The API and the status page read the same pages.
 */
export class FailureRecords {
  readonly #store: Store;
  readonly #config: () => Config;

  constructor(store: Store, config: () => Config) {
    this.#store = store;
    this.#config = config;
  }

  async list(mailboxId: string | undefined, filter: FailureFilter, cursor: string | undefined, limit: number): Promise<Page<ItemFailureRecord>> {
    if (mailboxId !== undefined && !this.#config().mailboxes.some((m) => m.id === mailboxId)) {
      throw new OperationError(404, `no mailbox "${mailboxId}"`);
    }
    const beforeId = decodeCursor('failures', cursor);
    const rows = await this.#store.mail.queryItemFailures({ ...filter, mailboxId, beforeId, limit: limit + 1 });
    return pageOf('failures', rows, limit, cursor);
  }
}
