import { DEFAULT_RETRY_BUDGET } from '@mailsync/contract';
import { describe, expect, it } from 'vitest';
import { approvalBlock, mayDecideApproval, type ApprovalRules } from './approval.js';
import { decideOnFailure, type RetrySettings } from './retry.js';
import { mayRequestTest, testChanges } from './test-enable.js';

const settings: RetrySettings = { maxTransientRetries: DEFAULT_RETRY_BUDGET, intervalMs: 300_000, maxBackoffMs: 3_600_000 };
const transient = { code: 'connect_failed', class: 'transient', retryAfterMs: null } as const;

describe('decideOnFailure', () => {
  it('disables at once on a permanent failure', () => {
    expect(decideOnFailure(0, { code: 'credentials_rejected', class: 'permanent', retryAfterMs: null }, settings, 0))
      .toEqual({ action: 'disable', code: 'credentials_rejected', consecutiveFailures: 1 });
  });

  it('retries a transient failure 10 times, 5 minutes apart, and disables on the 11th', () => {
    let now = 1_000_000;
    let consecutive = 0;
    const attempts: number[] = [];
    for (;;) {
      attempts.push(now);
      const d = decideOnFailure(consecutive, transient, settings, now);
      consecutive = d.consecutiveFailures;
      if (d.action === 'disable') break;
      // After the first failure all 10 retries are left; after the 10th, one.
      expect(d.retriesLeft).toBe(11 - consecutive);
      now = d.nextAttemptAt;
    }
    expect(attempts).toHaveLength(11);
    expect(consecutive).toBe(11);
    expect(attempts.slice(1).map((t, i) => t - (attempts[i] as number))).toEqual(Array(10).fill(300_000));
  });

  it('honours a server hint, capped', () => {
    const hinted = decideOnFailure(0, { code: 'provider_throttled', class: 'transient', retryAfterMs: 92_415 }, settings, 0);
    expect(hinted).toMatchObject({ action: 'retry', nextAttemptAt: 92_415 });
    const huge = decideOnFailure(0, { code: 'provider_throttled', class: 'transient', retryAfterMs: 86_400_000 }, settings, 0);
    expect(huge).toMatchObject({ action: 'retry', nextAttemptAt: 3_600_000 });
  });

  it('with no retries configured, the first transient failure disables', () => {
    expect(decideOnFailure(0, transient, { ...settings, maxTransientRetries: 0 }, 0).action).toBe('disable');
  });
});

describe('approval', () => {
  const strict: ApprovalRules = { processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: true };
  const open: ApprovalRules = { processOnlyApproved: false, requireAdminApprovalForTrustedProfiles: false };
  it.each([
    // approval, by role, trusted profile, rules, expected block
    ['empty', null, false, strict, 'email_address_not_approved'],
    ['pending', null, false, strict, 'email_address_not_approved'],
    ['rejected', 'operator', false, strict, 'email_address_not_approved'],
    ['approved', 'operator', false, strict, null],
    ['empty', null, false, open, null],
    ['empty', null, true, strict, 'admin_approval_required'],
    ['approved', 'operator', true, strict, 'admin_approval_required'],
    ['approved', 'admin', true, strict, null],
    ['empty', null, true, { processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: false }, 'email_address_not_approved'],
  ] as const)('%s by %s, trusted=%s → %s', (approval, role, trusted, rules, expected) => {
    expect(approvalBlock({ approval, approvedByRole: role }, trusted, rules as ApprovalRules)).toBe(expected);
  });

  it('lets only an admin approve a trusted profile, and never a viewer', () => {
    expect(mayDecideApproval('viewer', false, strict).ok).toBe(false);
    expect(mayDecideApproval('operator', false, strict).ok).toBe(true);
    expect(mayDecideApproval('operator', true, strict).ok).toBe(false);
    expect(mayDecideApproval('admin', true, strict).ok).toBe(true);
  });
});

describe('Test & Enable', () => {
  it('refuses a second request while one is scheduled or running', () => {
    expect(mayRequestTest('none').ok).toBe(true);
    expect(mayRequestTest('completed').ok).toBe(true);
    expect(mayRequestTest('scheduled').ok).toBe(false);
    expect(mayRequestTest('running').ok).toBe(false);
  });

  it('enables passing directions and disables failing ones with their code, transient or not', () => {
    expect(testChanges([
      { direction: 'incoming', ok: true, steps: ['connect', 'login'] },
      { direction: 'outgoing', ok: false, steps: ['connect'], code: 'connect_failed', class: 'transient', scope: 'server', message: 'refused' },
    ])).toEqual([
      { direction: 'incoming', action: 'enable' },
      { direction: 'outgoing', action: 'disable', code: 'connect_failed', message: 'refused' },
    ]);
  });

  it('leaves a direction as it was when its check failed for a reason mailsync does not recognise', () => {
    expect(testChanges([
      { direction: 'incoming', ok: false, steps: ['connect', 'login'], code: 'internal_error', class: 'transient', scope: 'mailbox', message: 'IMAP SETMETADATA: server said NO ...' },
    ])).toEqual([]);
  });
});
