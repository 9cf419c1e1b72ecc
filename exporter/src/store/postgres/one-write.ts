import type pg from 'pg';

/**
 * Issues two statements on `client` in one socket write. The pipelined client writes each statement
 * as it is issued, so a pair issued together was two writes, two wake-ups of the backend; with the
 * socket corked while both are issued they leave as one. Where the client is not connected yet
 * (the statements wait in its queue) or its socket is not reachable this way, they go as before.
 */
export function inOneWrite<A, B>(client: pg.PoolClient, first: () => Promise<A>, second: () => Promise<B>): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
  // node-postgres' socket is not in its typings; the cork is an optimisation, never needed.
  const socket = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  socket?.cork?.();
  try {
    return Promise.allSettled([first(), second()]);
  } finally {
    socket?.uncork?.();
  }
}
