/**
 * Runs Test & Enable requests in the background, a few at a time, each mailbox at most once at a
 * time. Requests live in the store (scheduled/running), so this queue only orders the work of the
 * current process; on start the service pushes the ones a stop interrupted.
 */
export class TestQueue {
  readonly #run: (mailboxId: string, signal: AbortSignal) => Promise<void>;
  readonly #abort = new AbortController();
  readonly #concurrency: number;
  readonly #waiting: string[] = [];
  readonly #running = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(run: (mailboxId: string, signal: AbortSignal) => Promise<void>, concurrency: number) {
    this.#run = run;
    this.#concurrency = concurrency;
  }

  push(mailboxId: string): void {
    if (this.#stopped || this.#waiting.includes(mailboxId) || this.#running.has(mailboxId)) return;
    this.#waiting.push(mailboxId);
    this.#pump();
  }

  get size(): number {
    return this.#waiting.length + this.#running.size;
  }

  /** Starts nothing new and aborts the running ones; their requests stay in the store for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.length = 0;
    this.#abort.abort();
    await Promise.allSettled([...this.#running.values()]);
  }

  /** Resolves when nothing is waiting or running (tests). */
  async idle(): Promise<void> {
    while (this.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#concurrency && this.#waiting.length > 0) {
      const id = this.#waiting.shift() as string;
      const done = this.#run(id, this.#abort.signal).finally(() => {
        this.#running.delete(id);
        this.#pump();
      });
      this.#running.set(id, done);
    }
  }
}
