import { describe, expect, it } from 'vitest';
import { processCursor } from '../../../../../functions/core/connect-policies/index.js';

describe('processCursor (RoundRobin cursor of a control plane alone on its store)', () => {
  it('counts from 1, separately per pool and policy', async () => {
    const next = processCursor();
    expect([
      await next('a', 'RoundRobin'),
      await next('a', 'RoundRobin'),
      await next('a', 'RoundRobin'),
    ]).toEqual([1, 2, 3]);
    expect(await next('b', 'RoundRobin')).toBe(1);
    expect(await next('a', 'Other')).toBe(1);
    expect(await next('a', 'RoundRobin')).toBe(4);
  });

  it('keeps at most 10,000 cursors, dropping the least recently used', async () => {
    const next = processCursor();
    await next('first', 'RoundRobin');
    await next('kept', 'RoundRobin');
    for (let i = 0; i < 9_998; i++) await next(`pool-${i}`, 'RoundRobin');
    // Using "kept" again makes "first" the least recently used one.
    expect(await next('kept', 'RoundRobin')).toBe(2);
    await next('one-more', 'RoundRobin');
    expect(await next('kept', 'RoundRobin')).toBe(3);
    expect(await next('first', 'RoundRobin')).toBe(1);
  });
});
