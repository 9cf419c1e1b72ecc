import { describe, expect, it } from 'vitest';
import { BUSY_UTILIZATION, isOverloaded } from './load-guard.js';

describe('load guard decision', () => {
  it('holds starts back when the loop is both late and busy with its own work', () => {
    expect(isOverloaded({ delayP90Ms: 250, utilization: 0.95 }, 200)).toBe(true);
    expect(isOverloaded({ delayP90Ms: 250, utilization: BUSY_UTILIZATION }, 200)).toBe(true);
  });

  it('does not hold back when the loop is late but mostly waiting: the machine, not the runner, is slow', () => {
    // bench:latency on a shared machine: 70 % idle in the profile, yet timers 200+ ms late.
    expect(isOverloaded({ delayP90Ms: 900, utilization: 0.3 }, 200)).toBe(false);
  });

  it('does not hold back for a busy loop whose timers are on time', () => {
    expect(isOverloaded({ delayP90Ms: 150, utilization: 1 }, 200)).toBe(false);
    expect(isOverloaded({ delayP90Ms: 200, utilization: 1 }, 200)).toBe(false);
  });
});
