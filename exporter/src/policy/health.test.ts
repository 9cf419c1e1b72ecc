import { describe, expect, it } from 'vitest';
import { healthOf, isLongTestEnable, type HealthDirection } from './health.js';

const HOUR = 3_600_000;
const now = 10 * HOUR;
const ok: HealthDirection = { configured: true, status: 'success', disabled: false, disabledCode: null, consecutiveFailures: 0, lastFailureAt: null };
const off: HealthDirection = { ...ok, configured: false, status: 'not_run' };

describe('healthOf', () => {
  it.each([
    ['all configured directions succeed', 'none', [ok, off], 'healthy'],
    ['a failure long ago does not count', 'none', [{ ...ok, lastFailureAt: now - 2 * HOUR }], 'healthy'],
    ['transient failure being retried', 'none', [{ ...ok, status: 'failure', consecutiveFailures: 3, lastFailureAt: now - 60_000 }], 'intermittent'],
    ['recovered within the window', 'none', [{ ...ok, lastFailureAt: now - 10 * 60_000 }], 'intermittent'],
    ['a failure exactly one window ago is outside it', 'none', [{ ...ok, lastFailureAt: now - HOUR }], 'healthy'],
    ['a failure just inside the window', 'none', [{ ...ok, lastFailureAt: now - HOUR + 1 }], 'intermittent'],
    ['one direction never run, the other running', 'none', [ok, { ...ok, status: 'not_run' }], 'healthy'],
    ['failing but not disabled yet is intermittent', 'none', [{ ...ok, status: 'failure', consecutiveFailures: 10, lastFailureAt: now }], 'intermittent'],
    ['system-disabled with a code', 'none', [{ ...ok, status: 'failure', disabled: true, disabledCode: 'credentials_rejected' }], 'failing'],
    ['one of two directions system-disabled', 'none', [ok, { ...ok, disabled: true, disabledCode: 'connect_failed' }], 'failing'],
    ['operator-disabled', 'none', [{ ...ok, disabled: true, disabledCode: null }], 'inactive'],
    ['never run yet', 'none', [{ ...ok, status: 'not_run' }], 'inactive'],
    ['nothing configured', 'none', [off], 'inactive'],
    ['disabled on an unconfigured direction does not count', 'none', [ok, { ...off, disabled: true, disabledCode: 'x' }], 'healthy'],
    ['Test & Enable scheduled wins over failing', 'scheduled', [{ ...ok, disabled: true, disabledCode: 'credentials_rejected' }], 'testing'],
    ['Test & Enable running', 'running', [ok], 'testing'],
    ['Test & Enable completed no longer counts', 'completed', [ok], 'healthy'],
  ] as const)('%s → %s', (_name, testState, directions, expected) => {
    expect(healthOf({ testState, directions: [...directions] }, now, HOUR)).toBe(expected);
  });
});

describe('isLongTestEnable', () => {
  it.each([
    ['scheduled', now - 901_000, true],
    ['running', now - 901_000, true],
    ['running', now - 900_000, false],
    ['completed', now - 10 * HOUR, false],
    ['none', null, false],
  ] as const)('%s since %s → %s', (state, requestedAt, expected) => {
    expect(isLongTestEnable({ state, requestedAt }, now, 900_000)).toBe(expected);
  });
});

