// @vitest-environment jsdom
import { FieldType, toDataFrame } from '@grafana/data';
import { describe, expect, it } from 'vitest';
import { fleet, NOW, table } from '../test/frames';
import { joinFrames, samplesOf } from './frames';
import { select, summarize } from './summary';

describe('joinFrames', () => {
  it('joins the queries by mailbox', () => {
    const joined = joinFrames(fleet());
    if (!joined.ok) throw new Error(joined.problem);
    const bob = joined.mailboxes.find((m) => m.mailbox === 'bob');
    expect(bob).toEqual({
      mailbox: 'bob', address: 'bob@example.com', profile: 'corp', health: 'failing', testStartedAt: null, itemFailures: [],
      directions: {
        incoming: { enabled: false, disabledCode: 'credentials_rejected', consecutiveFailures: 1, lastSuccessAt: null, lastError: { code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', at: NOW - 30_000 } },
        outgoing: { enabled: true, disabledCode: null, consecutiveFailures: 0, lastSuccessAt: null, lastError: null },
      },
    });
    expect(joined.mailboxes.find((m) => m.mailbox === 'eve')?.testStartedAt).toBe(NOW - 1_200_000);
  });

  it('reads time-series frames (labels on the value field) as well as tables', () => {
    const frame = toDataFrame({
      refId: 'health',
      fields: [{ name: 'Time', type: FieldType.time, values: [1, 2] }, { name: 'Value', type: FieldType.number, values: [0, 1], labels: { mailbox: 'ann', health: 'failing' } }],
    });
    expect(samplesOf(frame)).toEqual([{ labels: { mailbox: 'ann', health: 'failing' }, value: 1 }]);
  });

  it('says which queries are missing or wrong', () => {
    expect(joinFrames([])).toEqual({ ok: false, problem: 'missing health (mailsync_mailbox_health == 1), info (mailsync_mailbox_info)' });
    expect(joinFrames([table('info', [{ Value: 1 }]), table('health', [])])).toMatchObject({ ok: false, problem: expect.stringContaining('no mailbox label') });
    expect(joinFrames([table('info', [{ mailbox: 'a', Value: 1 }]), table('health', [{ mailbox: 'a', health: 'great', Value: 1 }])])).toMatchObject({ ok: false, problem: expect.stringContaining('does not know') });
  });

  it('ignores series of mailboxes that have no info (removed from the config)', () => {
    const joined = joinFrames([table('info', [{ mailbox: 'a', Value: 1 }]), table('health', [{ mailbox: 'gone', health: 'failing', Value: 1 }])]);
    expect(joined).toMatchObject({ ok: true, mailboxes: [{ mailbox: 'a', health: 'inactive' }] });
  });
});

describe('summarize and select', () => {
  const joined = joinFrames(fleet());
  const rows = joined.ok ? joined.mailboxes : [];
  it('counts each bucket, the warnings and the long Test & Enable ones', () => {
    expect(summarize(rows, NOW, 15 * 60_000)).toEqual({
      total: 5, byHealth: { healthy: 1, failing: 1, intermittent: 1, inactive: 1, testing: 1 }, warnings: 3, testingLong: 1,
    });
    // With a 30-minute threshold the 20-minute-old test is not long yet.
    expect(summarize(rows, NOW, 30 * 60_000).testingLong).toBe(0);
  });

  it('selects the rows behind a number', () => {
    expect(select(rows, { kind: 'health', health: 'failing' }, NOW, 900_000).map((r) => r.mailbox)).toEqual(['bob']);
    expect(select(rows, { kind: 'testingLong' }, NOW, 900_000).map((r) => r.mailbox)).toEqual(['eve']);
    expect(select(rows, { kind: 'all' }, NOW, 900_000)).toHaveLength(5);
  });
});
