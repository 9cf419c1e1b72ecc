export interface SendLimits {
  messagesPerMinute: number | undefined;
  recipientsPerDay: number | undefined;
}

export type LimitDecision =
  | { action: 'send' }
  /** Wait: sending now would exceed a limit; `until` is when enough earlier sends age out. */
  | { action: 'postpone'; until: number; reason: string }
  /** Never sendable under these limits (more recipients than a whole day allows). */
  | { action: 'refuse'; reason: string };

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/**
 * The cheap check first: with the totals of the last minute and day (two numbers the store sums),
 * most sends are clearly within the limits, and only the others need the detailed log.
 */
export function clearlyWithinLimits(totals: { messagesLastMinute: number; recipientsLastDay: number }, recipients: number, limits: SendLimits): boolean {
  return (limits.messagesPerMinute === undefined || totals.messagesLastMinute < limits.messagesPerMinute)
    && (limits.recipientsPerDay === undefined || totals.recipientsLastDay + recipients <= limits.recipientsPerDay);
}

/**
 * Whether one more email with `recipients` recipients may go now, given the profile's sends in
 * the last day (`sends`, oldest first). Rolling windows: a message counts for the minute after it
 * was sent, its recipients for the day after. Pure: the caller reads the log and the clock.
 */
export function limitDecision(sends: { at: number; recipients: number }[], recipients: number, limits: SendLimits, now: number): LimitDecision {
  const perDay = limits.recipientsPerDay;
  if (perDay !== undefined && recipients > perDay) {
    return { action: 'refuse', reason: `${recipients} recipients is more than the profile's limit of ${perDay} a day` };
  }
  let until = now;
  const reasons: string[] = [];
  const perMinute = limits.messagesPerMinute;
  if (perMinute !== undefined) {
    const lastMinute = sends.filter((s) => s.at > now - MINUTE_MS);
    if (lastMinute.length >= perMinute) {
      // The send that must age out for one more to fit.
      const freeing = lastMinute[lastMinute.length - perMinute] as { at: number };
      until = Math.max(until, freeing.at + MINUTE_MS);
      reasons.push(`${perMinute} messages a minute`);
    }
  }
  if (perDay !== undefined) {
    const lastDay = sends.filter((s) => s.at > now - DAY_MS);
    let used = lastDay.reduce((n, s) => n + s.recipients, 0);
    if (used + recipients > perDay) {
      for (const s of lastDay) {
        used -= s.recipients;
        if (used + recipients <= perDay) {
          until = Math.max(until, s.at + DAY_MS);
          break;
        }
      }
      reasons.push(`${perDay} recipients a day`);
    }
  }
  return reasons.length === 0 ? { action: 'send' } : { action: 'postpone', until, reason: `sending limit of the profile (${reasons.join(', ')})` };
}
