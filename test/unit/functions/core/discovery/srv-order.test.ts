import { describe, expect, it } from 'vitest';
import {
  restrictToActivePriority,
  srvOrder,
  weightedOrder,
} from '../../../../../functions/core/discovery/srv-order.js';
import { seededRandom } from '../../../../../functions/core/random.js';

describe('RFC 2782 ordering', () => {
  it('orders priorities ascending, whatever the weights', () => {
    const records = [
      { priority: 20, weight: 100 },
      { priority: 10, weight: 0 },
      { priority: 30, weight: 5 },
      { priority: 10, weight: 50 },
    ];
    for (let seed = 1; seed <= 50; seed++) {
      const order = srvOrder(records, seededRandom(seed));
      expect(order.map((position) => records[position]?.priority)).toEqual([10, 10, 20, 30]);
      expect(new Set(order)).toEqual(new Set([0, 1, 2, 3]));
    }
  });

  it('picks within a priority in proportion to weight (seeded, 20 000 draws)', () => {
    const random = seededRandom(42);
    const firsts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) {
      const first = weightedOrder([10, 30, 60], random)[0] as number;
      firsts[first] = (firsts[first] ?? 0) + 1;
    }
    // Expected shares 10/100, 30/100, 60/100 (the +1 in the draw range moves them by ~1 %).
    expect((firsts[0] as number) / 20_000).toBeGreaterThan(0.08);
    expect((firsts[0] as number) / 20_000).toBeLessThan(0.12);
    expect((firsts[1] as number) / 20_000).toBeGreaterThan(0.27);
    expect((firsts[1] as number) / 20_000).toBeLessThan(0.33);
    expect((firsts[2] as number) / 20_000).toBeGreaterThan(0.57);
    expect((firsts[2] as number) / 20_000).toBeLessThan(0.63);
  });

  it('a zero weight comes after the weighted ones except for the rare draw of 0', () => {
    const random = seededRandom(7);
    let zeroFirst = 0;
    for (let i = 0; i < 10_000; i++) if (weightedOrder([0, 100], random)[0] === 0) zeroFirst += 1;
    // The draw is uniform over 0..100: 0 comes up about once in 101.
    expect(zeroFirst).toBeGreaterThan(60);
    expect(zeroFirst).toBeLessThan(140);
    // Only zero weights: each order is possible, every position returned once.
    expect(new Set(weightedOrder([0, 0, 0], seededRandom(3)))).toEqual(new Set([0, 1, 2]));
  });

  it('only the lowest priority with a usable target of each SRV name stays usable', () => {
    const places = [
      { group: 'x', priority: 10 },
      { group: 'x', priority: 20 },
      undefined,
      { group: 'y', priority: 5 },
      { group: 'y', priority: 5 },
      { group: 'y', priority: 7 },
    ];
    const groupOf = (position: number) => places[position];
    expect(restrictToActivePriority([0, 1, 2, 3, 4, 5], groupOf)).toEqual([0, 2, 3, 4]);
    // x's priority 10 failed (excluded): its priority 20 becomes active.
    expect(restrictToActivePriority([1, 2, 4, 5], groupOf)).toEqual([1, 2, 4]);
    expect(restrictToActivePriority([5], groupOf)).toEqual([5]);
  });
});
