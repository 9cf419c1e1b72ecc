import { describe, expect, it } from 'vitest';
import { measureTokenCost } from '../bench/token-cost.js';

describe('OAuth2 token cost at fleet scale', () => {
  it('1,000 mailboxes on one client-credentials login send one token request per token lifetime, not one per mailbox per cycle', async () => {
    // Ten cycles 5 minutes apart fit in one 1-hour token (refreshed 5 minutes before it ends).
    expect((await measureTokenCost(1_000, 10)).tokenRequests).toBe(1);
    // The twelfth cycle (55 minutes in) is inside the refresh margin: one more request, for all of them.
    expect((await measureTokenCost(1_000, 12)).tokenRequests).toBe(2);
  });
});
