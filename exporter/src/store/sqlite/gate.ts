/** The promise-returning form of a synchronous object's methods. */
export type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/**
 * Serialises access to the one SQLite connection around `transaction(fn)`. better-sqlite3 is
 * synchronous, so a call outside a transaction runs at once; but an open transaction spans
 * `await`s, and a write from another cycle in that window would silently join it. While one is
 * open, every other caller waits for it to end; calls through the transaction's own view go
 * straight through.
 */
export class TransactionGate {
  #open: Promise<void> | undefined;

  /** Runs `fn` now, or after the open transaction ends. */
  run<T>(fn: () => T): Promise<T> {
    if (this.#open) return this.#open.then(() => this.run(fn));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Holds the gate for the whole of `body`; other transactions queue behind it. */
  async hold<T>(body: () => Promise<T>): Promise<T> {
    while (this.#open) await this.#open;
    let release!: () => void;
    this.#open = new Promise((resolve) => { release = resolve; });
    try {
      return await body();
    } finally {
      this.#open = undefined;
      release();
    }
  }
}

/** Wraps each method of `target` so it returns a promise and passes through `call` (a gate, or direct). */
export function promised<T extends object>(target: T, call: <R>(fn: () => R) => Promise<R>): Promised<T> {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    const method = (target as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    out[name] = (...args: unknown[]) => call(() => (method as (...a: unknown[]) => unknown).apply(target, args));
  }
  return out as Promised<T>;
}
