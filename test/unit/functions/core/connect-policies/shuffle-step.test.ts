import { describe, expect, it } from 'vitest';
import { shuffleStep } from '../../../../../functions/core/connect-policies/ordering/shuffle.js';
import { seededRandom } from '../../../../../functions/core/random.js';

const ids = ['A', 'B', 'C', 'D'];

describe('shuffleStep', () => {
  it('starts a round without the pick when there is none', () => {
    const step = shuffleStep(ids, [0, 1, 2, 3], undefined, seededRandom(1));
    expect(step.kind).toBe('refill');
    if (step.kind !== 'refill') return;
    const pick = step.order[0]!;
    expect([...step.remaining].sort()).toEqual(ids.filter((_, index) => index !== pick));
    expect([...step.order].sort()).toEqual([0, 1, 2, 3]);
  });

  it('takes only among the remaining backends', () => {
    const random = seededRandom(2);
    for (let i = 0; i < 50; i++) {
      const step = shuffleStep(ids, [0, 1, 2, 3], new Set(['B', 'D']), random);
      expect(step.kind).toBe('take');
      if (step.kind !== 'take') return;
      expect(['B', 'D']).toContain(step.id);
      expect(ids[step.order[0]!]).toBe(step.id);
      // The other remaining one comes next, then the used ones.
      expect(new Set(step.order.slice(0, 2).map((index) => ids[index]))).toEqual(new Set(['B', 'D']));
    }
  });

  it('refills when what remains is no longer configured', () => {
    const step = shuffleStep(ids, [0, 1, 2, 3], new Set(['Z']), seededRandom(3));
    expect(step.kind).toBe('refill');
  });

  it('picks outside the round when everything remaining failed in this session', () => {
    const step = shuffleStep(ids, [0, 2], new Set(['B', 'D']), seededRandom(4));
    expect(step.kind).toBe('off-round');
    expect([...step.order].sort()).toEqual([0, 2]);
  });

  it('never returns an excluded position', () => {
    const random = seededRandom(5);
    for (const remaining of [undefined, new Set(['A', 'B']), new Set(['C'])]) {
      const step = shuffleStep(ids, [2, 3], remaining, random);
      expect(step.order.every((index) => index === 2 || index === 3)).toBe(true);
    }
  });

  it('draws among ids, so a backend listed twice is one member of the round', () => {
    const step = shuffleStep(['A', 'A', 'B'], [0, 1, 2], undefined, seededRandom(6));
    if (step.kind !== 'refill') throw new Error(step.kind);
    expect(new Set(step.remaining).size).toBe(step.remaining.length);
  });
});
