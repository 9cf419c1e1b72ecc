import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * How many WAL pages the runner's own connection lets pile up before it checkpoints itself: a
 * backstop for when the background checkpointer is behind or gone. SQLite's default is 1,000.
 */
export const BACKSTOP_PAGES = 10_000;

/** How often the background connection checkpoints what the writer has added to the WAL. */
const INTERVAL_MS = 200;

/**
 * The worker's code, evaluated as CommonJS (`eval: true`): it loads better-sqlite3 from the path the
 * main thread resolved, so it runs the same from the TypeScript sources and from dist/.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error && error.message) }); }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints in a worker thread, on a second connection to the store file. A checkpoint copies
 * the WAL's pages into the database file and fsyncs both; done by the writing connection (SQLite's
 * auto-checkpoint), it ran inside a COMMIT every ~90 sends and was 60-80 % of the commit time the
 * outgoing cycle measured (docs/performance.md). A PASSIVE checkpoint waits for nobody and does
 * not block the writer, and losing it loses nothing: committed data is in the WAL until copied.
 * The writer keeps a high auto-checkpoint threshold as a backstop.
 */
export class Checkpointer {
  readonly #worker: Worker;
  #exited = false;
  #closed: Promise<void> | undefined;

  constructor(path: string, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, { eval: true, workerData: { driver, path, intervalMs: INTERVAL_MS } });
    // A store left open must not keep the process alive for its checkpoints.
    this.#worker.unref();
    this.#worker.on('message', (m: { error?: string }) => { if (m.error) onError(m.error); });
    this.#worker.on('error', (error) => onError(error.message));
    this.#worker.once('exit', () => { this.#exited = true; });
  }

  /** Stops the checkpoints and closes the worker's connection (before the writer's own close). */
  close(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    this.#closed ??= new Promise<void>((resolve) => {
      this.#worker.once('exit', () => resolve());
      // Held again while it closes: with nothing else left (a CLI command's end, a runner's
      // stop), an unref'd worker would let the process exit before this resolves.
      this.#worker.ref();
      this.#worker.postMessage('close');
    });
    return this.#closed;
  }
}
