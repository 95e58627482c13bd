import type { Random } from '../../random.js';
import { orderByScore } from './order-by-score.js';

/**
 * Connect times below this count as this in scores: a backend answering in under a millisecond
 * (loopback) would otherwise score 0 whatever its load, and take every session.
 */
export const MIN_CONNECT_MS = 1;

/** LeastResponseTime's score: `(active connections + 1) × smoothed connect ms`; lower is better. */
export function responseTimeScore(active: number, connectMs: number): number {
  return (active + 1) * Math.max(MIN_CONNECT_MS, connectMs);
}

/**
 * The connect time assumed for a backend with no (live) samples yet: the mean of the pool's sampled
 * backends, a neutral prior that lets it compete on its connection count until it is measured; with
 * no samples at all, `MIN_CONNECT_MS` (every backend equal, so the order is LeastConns').
 */
export function unsampledConnectMs(sampled: readonly number[]): number {
  if (sampled.length === 0) return MIN_CONNECT_MS;
  return sampled.reduce((sum, value) => sum + value, 0) / sampled.length;
}

/**
 * LeastResponseTime ordering: lowest score first, ties broken at random. `active` and `connectMs`
 * map backend keys to live connection counts and smoothed connect times.
 */
export function leastResponseTimeOrder(
  backends: readonly string[],
  usable: readonly number[],
  active: ReadonlyMap<string, number>,
  connectMs: ReadonlyMap<string, number>,
  random: Random,
): number[] {
  const sampled = [...new Set(backends)].flatMap((backend) => {
    const value = connectMs.get(backend);
    return value === undefined ? [] : [value];
  });
  const prior = unsampledConnectMs(sampled);
  return orderByScore(
    usable,
    (index) => {
      const backend = backends[index] ?? '';
      return responseTimeScore(active.get(backend) ?? 0, connectMs.get(backend) ?? prior);
    },
    random,
  );
}
