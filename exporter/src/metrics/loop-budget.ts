import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets the event loop run during a long piece of work, once `budgetMs` of it has gone by since
 * the loop last ran. A scrape shares the loop with the cycles: at 10,000 mailboxes its steps
 * (reading the store, grouping the fleet, writing the changed mailboxes' lines) would hold it for
 * tens of ms each, which the cycles see as loop delay. Yielding after every step instead cost the
 * scrape a whole loop turn each time, and a turn of a busy fleet is long; with a budget a small
 * fleet's scrape never yields and a large one's yields as often as it must.
 */
export class LoopBudget {
  #since: number;

  constructor(readonly budgetMs = 10, readonly now: () => number = () => performance.now()) {
    this.#since = now();
  }

  /** Resolves at once while within the budget; else after the loop has run once. */
  async spend(): Promise<void> {
    if (this.now() - this.#since < this.budgetMs) return;
    await nextTurn();
    this.#since = this.now();
  }
}
