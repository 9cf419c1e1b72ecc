import { describe, expect, it } from 'vitest';
import { clearlyWithinLimits, DAY_MS, limitDecision, MINUTE_MS } from './limits.js';

const now = 10 * DAY_MS;
const perMinute = { messagesPerMinute: 3, recipientsPerDay: undefined };
const perDay = { messagesPerMinute: undefined, recipientsPerDay: 100 };

describe('limitDecision', () => {
  it('sends while under both limits', () => {
    expect(limitDecision([], 1, { messagesPerMinute: 30, recipientsPerDay: 10_000 }, now)).toEqual({ action: 'send' });
    expect(limitDecision([{ at: now - 1, recipients: 5 }], 5, { messagesPerMinute: undefined, recipientsPerDay: undefined }, now)).toEqual({ action: 'send' });
  });

  it('postpones the message over the per-minute limit until the oldest in the window ages out', () => {
    const sends = [{ at: now - 50_000, recipients: 1 }, { at: now - 20_000, recipients: 1 }, { at: now - 10_000, recipients: 1 }];
    expect(limitDecision(sends, 1, perMinute, now)).toEqual({ action: 'postpone', until: now - 50_000 + MINUTE_MS, reason: 'sending limit of the profile (3 messages a minute)' });
    // A minute later the window holds only two sends: the next one goes.
    expect(limitDecision(sends, 1, perMinute, now - 50_000 + MINUTE_MS + 1)).toEqual({ action: 'send' });
    // Sends older than a minute do not count.
    expect(limitDecision(sends.map((s) => ({ ...s, at: s.at - MINUTE_MS })), 1, perMinute, now)).toEqual({ action: 'send' });
  });

  it('postpones by recipients over a rolling day until enough of them age out', () => {
    const sends = [{ at: now - 20 * 3_600_000, recipients: 60 }, { at: now - 3_600_000, recipients: 30 }];
    expect(limitDecision(sends, 10, perDay, now)).toEqual({ action: 'send' });
    expect(limitDecision(sends, 11, perDay, now)).toEqual({ action: 'postpone', until: now - 20 * 3_600_000 + DAY_MS, reason: 'sending limit of the profile (100 recipients a day)' });
    expect(limitDecision(sends, 80, perDay, now)).toMatchObject({ action: 'postpone', until: now - 3_600_000 + DAY_MS });
  });

  it('refuses an email with more recipients than a whole day allows', () => {
    expect(limitDecision([], 101, perDay, now)).toEqual({ action: 'refuse', reason: "101 recipients is more than the profile's limit of 100 a day" });
  });

  it('waits for the later of the two when both limits bite', () => {
    const sends = [{ at: now - 30_000, recipients: 98 }, { at: now - 20_000, recipients: 1 }, { at: now - 10_000, recipients: 1 }];
    expect(limitDecision(sends, 1, { messagesPerMinute: 3, recipientsPerDay: 100 }, now)).toMatchObject({
      action: 'postpone', until: now - 30_000 + DAY_MS, reason: 'sending limit of the profile (3 messages a minute, 100 recipients a day)',
    });
  });
});

describe('clearlyWithinLimits', () => {
  it.each([
    [{ messagesLastMinute: 2, recipientsLastDay: 90 }, 10, true],
    [{ messagesLastMinute: 3, recipientsLastDay: 0 }, 1, false],
    [{ messagesLastMinute: 0, recipientsLastDay: 91 }, 10, false],
  ])('%o + %i recipients → %s', (totals, recipients, expected) => {
    expect(clearlyWithinLimits(totals, recipients, { messagesPerMinute: 3, recipientsPerDay: 100 })).toBe(expected);
  });

  it('is always true without limits', () => {
    expect(clearlyWithinLimits({ messagesLastMinute: 1e6, recipientsLastDay: 1e9 }, 1e6, { messagesPerMinute: undefined, recipientsPerDay: undefined })).toBe(true);
  });
});

