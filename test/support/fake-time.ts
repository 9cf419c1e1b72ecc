/** A clock and timers that only move when the test says so (several keepers or schedulers may share them). */
export class FakeTime {
  now = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #next = 0;
  readonly clock = { now: () => this.now };
  readonly timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = ++this.#next;
      this.#timers.push({ at: this.now + ms, fn, id });
      return id;
    },
    clearTimeout: (id: unknown) => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    },
  };

  /** Moves time forward, firing each timer due on the way at its own time, with promises settled between. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      // Never backwards: a test may move `now` by hand past timers (a paused process).
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = target;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
