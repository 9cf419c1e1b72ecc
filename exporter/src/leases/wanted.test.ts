import { describe, expect, it } from 'vitest';
import type { Direction } from '../store/index.js';
import { leadDirection, runnerId, unleased, wantedLeases } from './wanted.js';

const mailbox = (id: string, dirs: Partial<Record<Direction, boolean>>, profile = 'p') =>
  ({ id, profile, incoming: false, outgoing: false, act: false, ...dirs });

describe('what the runners share', () => {
  it('wants every configured direction, the lead one of a mailbox without any, nothing of an unknown profile', () => {
    const config = { profiles: [{ id: 'p' }], mailboxes: [mailbox('a', { incoming: true, act: true }), mailbox('b', {}), mailbox('c', { outgoing: true }), mailbox('d', { incoming: true }, 'gone')] };
    expect(wantedLeases(config as never).map((k) => `${k.mailboxId}/${k.direction}`)).toEqual(['a/incoming', 'a/act', 'b/incoming', 'c/outgoing']);
    expect([leadDirection(mailbox('x', { outgoing: true, act: true })), leadDirection(mailbox('y', {}))]).toEqual(['outgoing', 'incoming']);
  });

  it('counts per direction the wanted directions without a live lease', () => {
    const wanted = [{ mailboxId: 'a', direction: 'incoming' as const }, { mailboxId: 'b', direction: 'incoming' as const }, { mailboxId: 'a', direction: 'act' as const }];
    const rows = [
      { mailboxId: 'a', direction: 'incoming' as const, runner: 'r', token: 1, expiresAt: 0, live: true },
      { mailboxId: 'b', direction: 'incoming' as const, runner: 'r', token: 1, expiresAt: 0, live: false },
    ];
    expect(Object.fromEntries(unleased(wanted, rows))).toEqual({ incoming: 1, outgoing: 0, act: 1 });
  });

  it('names the runner by runner.id, else hostname-pid', () => {
    expect([runnerId({ runner: { id: 'r1' } }, 'h', 7), runnerId({ runner: {} }, 'h', 7)]).toEqual(['r1', 'h-7']);
  });
});
