import { describe, expect, it } from 'vitest';
import { roundRobinOrder } from '../../../../../functions/core/connect-policies/ordering/round-robin.js';

describe('roundRobinOrder', () => {
  it('starts at position 0 on the first cursor value and rotates', () => {
    expect(roundRobinOrder(3, 1, new Set())).toEqual([0, 1, 2]);
    expect(roundRobinOrder(3, 2, new Set())).toEqual([1, 2, 0]);
    expect(roundRobinOrder(3, 4, new Set())).toEqual([0, 1, 2]);
  });

  it('skips excluded positions', () => {
    expect(roundRobinOrder(3, 1, new Set([0]))).toEqual([1, 2]);
    expect(roundRobinOrder(3, 1, new Set([0, 1, 2]))).toEqual([]);
  });
});
