import { describe, expect, it } from 'vitest';
import {
  answerTimes,
  DEFAULT_DISCOVERY_SETTINGS,
  effectiveTtlSeconds,
} from '../../../../../functions/core/discovery/discovery-settings.js';

describe('discovery TTL math', () => {
  const settings = {
    ...DEFAULT_DISCOVERY_SETTINGS,
    minTtlSeconds: 2,
    maxTtlSeconds: 600,
    negativeTtlSeconds: 15,
  };

  it('uses the smallest record TTL, clamped to [minTtl, maxTtl]', () => {
    expect(effectiveTtlSeconds([300, 60, 120], settings)).toBe(60);
    expect(effectiveTtlSeconds([0, 300], settings)).toBe(2);
    expect(effectiveTtlSeconds([86_400], settings)).toBe(600);
  });

  it('an answer without records is trusted for the negative TTL', () => {
    expect(effectiveTtlSeconds([], settings)).toBe(15);
  });

  it('is valid for its TTL and refreshed once three quarters of it have passed', () => {
    expect(answerTimes(1_000_000, 60, settings)).toEqual({ validUntil: 1_060_000, refreshAt: 1_045_000 });
    expect(answerTimes(5, 1, settings)).toEqual({ validUntil: 1005, refreshAt: 755 });
  });
});
