import { describe, expect, it } from 'vitest';
import { healthSettings } from '../../../../../functions/core/health/health-settings.js';
import { type BackendHealth, healthState } from '../../../../../functions/core/health/health-state.js';

describe('health state', () => {
  const settings = healthSettings({ passive: { failures: 3, windowMs: 10_000, cooldownMs: 5000 } });
  const record = (fields: Partial<BackendHealth>): BackendHealth => ({
    pool: 'p',
    backend: 'ftp://10.0.0.1:21',
    failures: 0,
    ...fields,
  });

  it('no failures, or failures whose window has passed: healthy', () => {
    expect(healthState(record({}), 100_000, settings)).toBe('healthy');
    expect(healthState(record({ failures: 2, windowStart: 80_000 }), 100_000, settings)).toBe('healthy');
  });

  it('failures inside the window, below the threshold: suspect (used, success reported)', () => {
    expect(healthState(record({ failures: 2, windowStart: 95_000 }), 100_000, settings)).toBe('suspect');
  });

  it('inside the cool-down: unhealthy; after it: suspect (probation) until a success clears it', () => {
    const marked = record({ failures: 3, windowStart: 95_000, unhealthyUntil: 104_000 });
    expect(healthState(marked, 100_000, settings)).toBe('unhealthy');
    expect(healthState(marked, 103_999, settings)).toBe('unhealthy');
    expect(healthState(marked, 104_000, settings)).toBe('suspect');
    expect(healthState(marked, 500_000, settings)).toBe('suspect');
  });

  it('documented defaults: 3 failures within 60 s, 30 s cool-down, try when all are unhealthy', () => {
    expect(healthSettings()).toEqual({
      passive: { enabled: true, failures: 3, windowMs: 60_000, cooldownMs: 30_000 },
      whenAllUnhealthy: 'try',
      activeFailureHoldMs: 60_000,
    });
  });
});
