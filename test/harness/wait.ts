import { setTimeout as pause } from 'node:timers/promises';

export interface WaitOptions<T> {
  /** What is awaited, in words: the timeout error starts with it. */
  what: string;
  /** Accepts the value read; by default any truthy value. */
  until?: (value: T) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Reads `check` until its value is accepted, and returns that value. This is for conditions that
 * no event announces (a server starting to answer, a state in another process's store, a
 * Prometheus result): it waits as long as needed and no longer, so that no test sleeps "long
 * enough". An error thrown by `check` ends the wait at once (a server that exited will not start
 * answering). The timeout names `what` and the last value seen, which usually says why.
 *
 * Not vitest's `vi.waitFor`: the demo and the benchmarks run this harness outside vitest.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions<T>): Promise<T> {
  const { what, until = Boolean, timeoutMs = 20_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (until(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${shown(value)}`);
    await pause(intervalMs);
  }
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
