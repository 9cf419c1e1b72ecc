import type { Direction } from '../types.js';
import type { Queryable } from './leases.js';

/**
 * B: `RunStore.abortOpenRunsOf` on PostgreSQL, taking A's pool (the lead wires it into A's runs
 * store at merge). The new holder of a mailbox direction closes whatever run the previous holder
 * left open: that runner died or lost the lease and will never close it (its own
 * `abortUnfinishedRuns` at a restart closes only runs carrying its id). Against A's `sync_run`
 * table (the SQLite columns plus `runner`; times in epoch ms).
 */
export class PgRunsTakeover {
  readonly #pool: Queryable;

  constructor(pool: Queryable) {
    this.#pool = pool;
  }

  async abortOpenRunsOf(mailboxId: string, direction: Direction, at: number): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(`WITH closed AS (
        UPDATE sync_run SET result = 'aborted', finished_at = $3,
          error_message = 'lease taken over: the runner that ran it stopped or lost the lease'
        WHERE result IS NULL AND mailbox_id = $1 AND direction = $2 RETURNING 1)
      SELECT count(*)::int AS n FROM closed`, [mailboxId, direction, at]);
    return rows[0]?.n ?? 0;
  }
}
