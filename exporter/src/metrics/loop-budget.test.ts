import { describe, expect, it } from 'vitest';
import { LoopBudget } from './loop-budget.js';

describe('LoopBudget', () => {
  it('lets the loop run only once the budget is spent, then starts a new one', async () => {
    let now = 0;
    const budget = new LoopBudget(10, () => now);
    const ran: string[] = [];
    // Whatever waits on the loop: it runs only if spend() yields.
    const waiting = () => setImmediate(() => ran.push(`loop at ${now}`));

    waiting();
    now = 9;
    await budget.spend();
    ran.push('after 9 ms');
    now = 10;
    await budget.spend();
    ran.push('after 10 ms');
    waiting();
    now = 15;
    await budget.spend();
    ran.push('after 15 ms');
    expect(ran).toEqual(['after 9 ms', 'loop at 10', 'after 10 ms', 'after 15 ms']);
  });
});
