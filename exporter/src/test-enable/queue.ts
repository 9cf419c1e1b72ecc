/**
 * Runs Test & Enable requests in the background, a few at a time, each mailbox at most once at a
 * time. Requests live in the store (scheduled/running), so this queue only orders the work of the
 * current process; on start the service pushes the ones a stop interrupted.
 */
export class TestQueue {
  readonly #run: (mailboxId: string, signal: AbortSignal) => Promise<void>;
  readonly #concurrency: number;
  readonly #waiting: string[] = [];
  /** Each running request with its own abort signal: one shared signal would collect a listener per connect. */
  readonly #running = new Map<string, { done: Promise<void>; abort: AbortController }>();
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
    for (const r of this.#running.values()) r.abort.abort();
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  /** Resolves when nothing is waiting or running (tests). */
  async idle(): Promise<void> {
    while (this.size > 0) await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#concurrency && this.#waiting.length > 0) {
      const id = this.#waiting.shift() as string;
      const abort = new AbortController();
      const done = this.#run(id, abort.signal).finally(() => {
        this.#running.delete(id);
        this.#pump();
      });
      this.#running.set(id, { done, abort });
    }
  }
}
