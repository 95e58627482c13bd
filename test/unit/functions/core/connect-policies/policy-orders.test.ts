import { describe, expect, it } from 'vitest';
import { leastConnsOrder } from '../../../../../functions/core/connect-policies/ordering/least-conns.js';
import {
  leastResponseTimeOrder,
  MIN_CONNECT_MS,
  responseTimeScore,
  unsampledConnectMs,
} from '../../../../../functions/core/connect-policies/ordering/least-response-time.js';
import { orderByScore } from '../../../../../functions/core/connect-policies/ordering/order-by-score.js';
import { randomOrder } from '../../../../../functions/core/connect-policies/ordering/random.js';
import { usablePositions } from '../../../../../functions/core/connect-policies/ordering/usable.js';
import { randomInt, seededRandom, shuffled } from '../../../../../functions/core/random.js';

const B = ['ftp://a:21', 'ftp://b:21', 'ftp://c:21', 'ftp://d:21'];

describe('usablePositions', () => {
  it('drops excluded positions and ignores out-of-range ones', () => {
    expect(usablePositions(4, [1, 3, 9])).toEqual([0, 2]);
    expect(usablePositions(2, [0, 1])).toEqual([]);
  });
});

describe('random helpers', () => {
  it('seededRandom is deterministic and in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
  });

  it('randomInt stays in range even for a generator returning almost 1', () => {
    expect(randomInt(() => 0.999999999999, 3)).toBe(2);
    expect(randomInt(() => 0, 3)).toBe(0);
  });

  it('shuffled returns a permutation and leaves its input alone', () => {
    const input = [1, 2, 3, 4, 5];
    const output = shuffled(input, seededRandom(1));
    expect([...output].sort()).toEqual(input);
    expect(input).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('randomOrder', () => {
  it('is a permutation of the usable positions with a uniform first pick', () => {
    const random = seededRandom(42);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const order = randomOrder([0, 2, 3], random);
      expect([...order].sort()).toEqual([0, 2, 3]);
      counts[[0, 2, 3].indexOf(order[0]!)]! += 1;
    }
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });
});

describe('orderByScore', () => {
  it('orders by score and breaks ties at random, not by position', () => {
    const random = seededRandom(3);
    const firsts = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const order = orderByScore([0, 1, 2, 3], (index) => (index === 3 ? 5 : 1), random);
      expect(order[3]).toBe(3);
      firsts.add(order[0]!);
    }
    expect(firsts).toEqual(new Set([0, 1, 2]));
  });
});

describe('leastConnsOrder', () => {
  it('puts the fewest live connections first and counts missing backends as zero', () => {
    const active = new Map([
      [B[0]!, 3],
      [B[1]!, 1],
      [B[3]!, 2],
    ]);
    expect(leastConnsOrder(B, [0, 1, 2, 3], active, seededRandom(1))).toEqual([2, 1, 3, 0]);
    expect(leastConnsOrder(B, [0, 1, 3], active, seededRandom(1))).toEqual([1, 3, 0]);
  });
});

describe('LeastResponseTime', () => {
  it('scores (active + 1) × connect ms, with a floor of 1 ms', () => {
    expect(responseTimeScore(0, 10)).toBe(10);
    expect(responseTimeScore(3, 10)).toBe(40);
    expect(responseTimeScore(5, 0)).toBe(6 * MIN_CONNECT_MS);
  });

  it('assumes the mean of the sampled backends for an unsampled one, 1 ms with none', () => {
    expect(unsampledConnectMs([10, 30])).toBe(20);
    expect(unsampledConnectMs([])).toBe(MIN_CONNECT_MS);
  });

  it('prefers the faster backend until its load outweighs the speed', () => {
    const times = new Map([
      [B[0]!, 10],
      [B[1]!, 40],
    ]);
    const two = B.slice(0, 2);
    expect(leastResponseTimeOrder(two, [0, 1], new Map(), times, seededRandom(1))).toEqual([0, 1]);
    // 4 live sessions on the fast one: 5 × 10 = 50 > 1 × 40.
    expect(leastResponseTimeOrder(two, [0, 1], new Map([[B[0]!, 4]]), times, seededRandom(1))).toEqual([
      1, 0,
    ]);
  });

  it('lets an unmeasured backend compete at the pool mean', () => {
    const times = new Map([
      [B[0]!, 10],
      [B[1]!, 30],
    ]);
    const three = B.slice(0, 3);
    // c is unmeasured: assumed 20 ms; a is busy (2 × 10 = 20 ties with c), b scores 30.
    const order = leastResponseTimeOrder(three, [0, 1, 2], new Map([[B[0]!, 2]]), times, seededRandom(5));
    expect(order[2]).toBe(1);
    expect(new Set(order.slice(0, 2))).toEqual(new Set([0, 2]));
    // With no samples at all it is LeastConns.
    expect(
      leastResponseTimeOrder(three, [0, 1, 2], new Map([[B[0]!, 1]]), new Map(), seededRandom(1))[2],
    ).toBe(0);
  });
});
