import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { runnerId } from '../leases/wanted.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { openStoreFor } from './errors.js';

/**
 * The store as `mailsync run` needs it before anything syncs: opened for this runner, the runs a
 * crash of this runner left open closed, and the bytes a crash left unreferenced removed.
 */
export async function openRunnerStore(config: Config, clock: Clock, logger: Logger): Promise<Store> {
  const store = await openStoreFor(config.store, {
    // B: runs carry the runner that ran them; a restart closes only its own runs left open.
    runner: runnerId(config),
    // B: a runner paused inside a fenced write would hold its lease row until it woke (pool.ts).
    idleInTransactionMs: config.leases.seconds * 1_000,
    // A: PostgreSQL: a pooled connection that broke while idle is replaced; the log says it happened.
    onIdleError: (error) => logger.warn({ err: error }, 'an idle store connection broke (the database restarted or ended it); it is replaced'),
  });
  try {
    const aborted = await store.runs.abortUnfinishedRuns(clock.now());
    if (aborted > 0) logger.warn({ runs: aborted }, 'closed runs left open by an earlier stop as aborted');
    // Before any ingest: bytes a crash left unreferenced in a pack are garbage for good only now.
    const compacted = await store.compact();
    if (compacted.freedBytes > 0) logger.info({ ...compacted }, 'removed raw bytes no stored email points at');
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
