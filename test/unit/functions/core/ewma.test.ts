import { describe, expect, it } from 'vitest';
import { CONNECT_MS_SMOOTHING, smoothConnectMs } from '../../../../functions/core/ewma.js';

describe('smoothConnectMs', () => {
  it('takes the first sample as is', () => {
    expect(smoothConnectMs(undefined, 42)).toBe(42);
  });

  it('moves by the smoothing factor of the difference', () => {
    expect(CONNECT_MS_SMOOTHING).toBe(0.2);
    expect(smoothConnectMs(10, 110)).toBeCloseTo(30);
    expect(smoothConnectMs(30, 10)).toBeCloseTo(26);
  });

  it('damps a single outlier and follows a lasting change', () => {
    let ewma: number | undefined;
    for (let i = 0; i < 20; i++) ewma = smoothConnectMs(ewma, 10);
    const afterOutlier = smoothConnectMs(ewma, 1000);
    expect(afterOutlier).toBeLessThan(210);
    let settled = afterOutlier;
    for (let i = 0; i < 20; i++) settled = smoothConnectMs(settled, 10);
    expect(settled).toBeLessThan(13);
    let shifted = settled;
    for (let i = 0; i < 20; i++) shifted = smoothConnectMs(shifted, 100);
    expect(shifted).toBeGreaterThan(98);
  });
});
