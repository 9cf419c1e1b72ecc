import type { OutgoingServer } from '../config/index.js';

/**
 * The most emails one connection claims (marks `sending`) in one commit, where claiming several
 * is safe. Each claim is a commit, and a commit per email was most of the send cycle's own cost
 * (docs/performance.md, bench:send); 8 makes it an eighth.
 */
export const CLAIM_BATCH = 8;

/**
 * How many emails a connection claims at once. Several only when a crash leaves nothing to guess:
 * with `sentCopy: server` the provider files its copy when it accepts an email, so every email a
 * crash leaves `sending` is looked up in the Sent folder (found: sent; not found: sent later, its
 * first send), never sent twice. With `append` or `none` an email the server took but mailsync had
 * not recorded yet is sent again after a crash, so a connection keeps one email `sending` at a time
 * and the window stays one email per connection. Near a sending limit, one at a time as well (every
 * decision must see every earlier send), and never more than the connections' share of what is
 * left, so that a short queue still goes out over every connection.
 */
export function claimSize(server: Pick<OutgoingServer, 'sentCopy' | 'maxConnections'>, left: number, nearLimit: boolean): number {
  if (server.sentCopy !== 'server' || nearLimit) return 1;
  return Math.max(1, Math.min(CLAIM_BATCH, Math.floor(left / server.maxConnections)));
}
