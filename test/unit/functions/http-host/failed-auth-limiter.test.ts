import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter, sourceKey } from '../../../../functions/http-host/failed-auth-limiter.js';

describe('FailedAuthLimiter', () => {
  it('refuses a source after its burst, until a token comes back at the refill rate', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ burst: 3, perMinute: 6, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('192.0.2.1')).toBe(0);
      limiter.recordFailure('192.0.2.1');
    }
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(10_000);
    expect(limiter.retryAfterMs('192.0.2.2')).toBe(0);
    now = 4000;
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(6000);
    now = 10_000;
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(0);
    limiter.recordFailure('192.0.2.1');
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(10_000);
    // Refilled to the full burst, the source is forgotten.
    now = 100_000;
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('remembers at most maxSources, forgetting the least recently failing', () => {
    const limiter = new FailedAuthLimiter({ burst: 1, perMinute: 1, maxSources: 3, now: () => 0 });
    for (const n of [1, 2, 3, 4]) limiter.recordFailure(`192.0.2.${n}`);
    expect(limiter.size).toBe(3);
    expect(limiter.retryAfterMs('192.0.2.1')).toBe(0);
    expect(limiter.retryAfterMs('192.0.2.4')).toBeGreaterThan(0);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 per /64', () => {
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2::5')).toBe(sourceKey('2001:db8:1:2:ffff::9'));
    expect(sourceKey('2001:db8:1:2::5')).not.toBe(sourceKey('2001:db8:1:3::5'));
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey(undefined)).toBe('unknown');
  });
});
