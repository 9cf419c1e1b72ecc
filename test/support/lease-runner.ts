/**
 * One runner process of the lease integration test: a LeaseKeeper on PostgreSQL with real timers,
 * and a work loop that commits one fenced write per held lease per pass, the way the PostgreSQL
 * driver fences a cycle's writes (design-16: the lease row checked FOR KEY SHARE in the write's own
 * transaction). Killed and paused by the test with real signals.
 *   node --import tsx test/support/lease-runner.ts URL RUNNER TTL_MS MAILBOXES
 * Prints one JSON line per event: {"held":n} after each change, {"refused":key} for a refused write.
 */
import pg from 'pg';
import { LeaseKeeper } from '../../exporter/src/leases/keeper.js';
import { createLogger } from '../../exporter/src/log.js';
import { systemTimers } from '../../exporter/src/scheduler/scheduler.js';
import { PgLeaseStore } from '../../exporter/src/store/postgres/leases.js';
import type { LeaseKey } from '../../exporter/src/store/index.js';

const [url, runner, ttl, count] = process.argv.slice(2) as [string, string, string, string];
// A paused process's open transaction would hold its lease rows FOR KEY SHARE forever, and a takeover
// skips locked rows: the server ends such a session once it has idled in a transaction for the TTL.
const pool = new pg.Pool({ connectionString: url, max: 3, idle_in_transaction_session_timeout: Number(ttl) });
pool.on('error', () => undefined);
// The server ending a session (the timeout above) is an 'error' on a checked-out client: its query fails, the process goes on.
pool.on('connect', (client) => client.on('error', () => undefined));
const wanted: LeaseKey[] = Array.from({ length: Number(count) }, (_, i) => ({ mailboxId: `m${String(i).padStart(3, '0')}`, direction: 'incoming' }));
const keeper = new LeaseKeeper({
  store: new PgLeaseStore(pool), runner, ttlMs: Number(ttl), clock: { now: () => Date.now() }, timers: systemTimers,
  logger: createLogger('silent'), wanted: () => wanted,
});
const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
keeper.onChange(() => say({ held: keeper.held().length }));

/** One fenced write: kept only while this runner still holds the lease with this token. */
async function work(key: LeaseKey): Promise<void> {
  const fence = keeper.fence(key.mailboxId, key.direction);
  if (!fence) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const held = await client.query(`SELECT 1 FROM leases WHERE mailbox_id = $1 AND direction = $2 AND runner = $3 AND token = $4
      AND expires_at > clock_timestamp() FOR KEY SHARE`, [fence.mailboxId, fence.direction, fence.runner, fence.token]);
    if (held.rowCount === 0) {
      await client.query('ROLLBACK');
      say({ refused: fence.mailboxId, token: fence.token });
      return;
    }
    await client.query('INSERT INTO work (mailbox_id, runner, token) VALUES ($1, $2, $3)', [fence.mailboxId, runner, fence.token]);
    await client.query('COMMIT');
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
  } finally {
    client.release();
  }
}

/** A pass over the held leases, then the next one a little later (pacing, so three runners leave the machine some room). */
function loop(): void {
  const pass = keeper.held().map((k) => work(k));
  void Promise.all(pass).finally(() => setTimeout(loop, 100));
}

await keeper.start();
loop();
process.on('SIGTERM', () => {
  void keeper.stop().finally(() => process.exit(0));
});
