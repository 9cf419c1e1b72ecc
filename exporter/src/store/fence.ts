import { AsyncLocalStorage } from 'node:async_hooks';
import type { Direction } from './types.js';

/**
 * What a runner proves it still holds when it commits work for a mailbox direction: the lease it
 * was given, with its fencing token. Tokens grow with every new holder, so a runner that lost the
 * lease (paused, cut off from the database) and wakes up holds a token the database no longer has.
 */
export interface Fence {
  mailboxId: string;
  direction: Direction;
  runner: string;
  token: number;
}

/**
 * The fence of the cycle now running, carried through its async calls. The scheduler runs each
 * turn inside `fenceContext.run(fence, ...)`; a driver that shares its database between runners
 * checks the fence in the same transaction as every write made in that context. Carried this way
 * rather than as a parameter, so the directions need not pass it through every store call, and a
 * write that forgets it cannot exist.
 */
export const fenceContext = new AsyncLocalStorage<Fence>();

/** The fence of the current async context, if the caller runs under a lease. */
export function currentFence(): Fence | undefined {
  return fenceContext.getStore();
}

/**
 * A write was refused because the runner no longer holds the lease it ran under: another runner
 * took the mailbox direction over. Nothing of the write was kept. Not the mailbox's failure: the
 * cycle ends, is counted and logged, and the new holder does the work again.
 */
export class FencedError extends Error {
  readonly fence: Fence;

  constructor(fence: Fence) {
    super(`lease lost: ${fence.mailboxId} ${fence.direction} is no longer held by runner ${fence.runner} (token ${fence.token})`);
    this.name = 'FencedError';
    this.fence = fence;
  }
}
