import type { Random } from '../../random.js';
import { orderByScore } from './order-by-score.js';

/**
 * LeastConns ordering: fewest live connections first (`active`: backend key -> sum of the unexpired
 * leases of every edge worker), ties broken at random.
 */
export function leastConnsOrder(
  backends: readonly string[],
  usable: readonly number[],
  active: ReadonlyMap<string, number>,
  random: Random,
): number[] {
  return orderByScore(usable, (index) => active.get(backends[index] ?? '') ?? 0, random);
}
