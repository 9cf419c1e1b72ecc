import { describe, expect, it } from 'vitest';
import { CLAIM_BATCH, claimSize } from './claims.js';

describe('claimSize: emails a connection marks sending in one commit', () => {
  it('claims several only where the Sent folder answers for every one after a crash', () => {
    expect(claimSize({ sentCopy: 'server', maxConnections: 3 }, 1_000, false)).toBe(CLAIM_BATCH);
    expect(claimSize({ sentCopy: 'append', maxConnections: 3 }, 1_000, false)).toBe(1);
    expect(claimSize({ sentCopy: 'none', maxConnections: 3 }, 1_000, false)).toBe(1);
  });

  it('claims one at a time near a sending limit', () => {
    expect(claimSize({ sentCopy: 'server', maxConnections: 3 }, 1_000, true)).toBe(1);
  });

  it('leaves every connection its share of a short queue', () => {
    expect(claimSize({ sentCopy: 'server', maxConnections: 3 }, 12, false)).toBe(4);
    expect(claimSize({ sentCopy: 'server', maxConnections: 3 }, 5, false)).toBe(1);
    expect(claimSize({ sentCopy: 'server', maxConnections: 3 }, 0, false)).toBe(1);
  });
});
