/**
 * Tells in-process listeners (the feed's long-polls, the webhook worker) that a change was
 * written. The store calls `changed()` from inside the writing transaction; listeners are run on
 * the next turn of the event loop, after it has committed. A listener that reads then goes through
 * the store's gate, so it waits for any transaction still open and never sees uncommitted rows; a
 * change whose transaction rolled back wakes it for nothing, which is harmless.
 */
export class ChangeNotifier {
  readonly #listeners = new Set<() => void>();
  #scheduled = false;

  changed(): void {
    if (this.#scheduled || this.#listeners.size === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const listener of [...this.#listeners]) listener();
    });
  }

  /** How many are waiting (tests wait for a long-poll to be in its wait). */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` after each commit that wrote changes; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves at the next change, when `signal` aborts, or after `ms`: whichever comes first. */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.subscribe(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
