import { describe, expect, it } from 'vitest';
import { stickyDecision } from '../../../../../functions/core/connect-policies/ordering/sticky.js';
import { rendezvousRank, rendezvousWeight } from '../../../../../functions/core/rendezvous-hash.js';

const B = ['ftp://a:21', 'ftp://b:21', 'ftp://c:21', 'ftp://d:21'];

describe('rendezvous hashing', () => {
  it('is stable, and independent of list order', () => {
    expect(rendezvousWeight('alice', B[0]!)).toBe(rendezvousWeight('alice', B[0]!));
    expect(rendezvousWeight('alice', B[0]!)).not.toBe(rendezvousWeight('alice', B[1]!));
    const ranked = rendezvousRank('alice', B).map((index) => B[index]);
    const reversed = [...B].reverse();
    expect(rendezvousRank('alice', reversed).map((index) => reversed[index])).toEqual(ranked);
  });

  it('keeps the split between key and backend unambiguous', () => {
    expect(rendezvousWeight('ab', 'c')).not.toBe(rendezvousWeight('a', 'bc'));
  });

  it('spreads keys roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[rendezvousRank(`user${i}`, B)[0]!]! += 1;
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  it('moves only the keys of a removed backend', () => {
    const without = B.filter((_, index) => index !== 2);
    for (let i = 0; i < 500; i++) {
      const key = `10.0.${i >> 8}.${i & 255}`;
      const before = B[rendezvousRank(key, B)[0]!];
      const after = without[rendezvousRank(key, without)[0]!];
      if (before !== B[2]) expect(after).toBe(before);
    }
  });
});

describe('stickyDecision', () => {
  it('stores the best-ranked backend on first use', () => {
    const best = rendezvousRank('alice', B);
    const decision = stickyDecision('alice', B, [0, 1, 2, 3], undefined);
    expect(decision).toEqual({ kind: 'store', backend: B[best[0]!], order: best });
  });

  it('keeps a usable stored backend even if the ranking prefers another', () => {
    const ranking = rendezvousRank('alice', B);
    const last = ranking[3]!;
    const decision = stickyDecision('alice', B, [0, 1, 2, 3], B[last]);
    expect(decision.kind).toBe('keep');
    expect(decision.order).toEqual([last, ...ranking.slice(0, 3)]);
  });

  it('re-picks the best-ranked usable backend when the stored one is excluded', () => {
    const ranking = rendezvousRank('bob', B);
    const stored = ranking[0]!;
    const decision = stickyDecision(
      'bob',
      B,
      [0, 1, 2, 3].filter((index) => index !== stored),
      B[stored],
    );
    expect(decision).toEqual({
      kind: 'replace',
      backend: B[ranking[1]!],
      previous: B[stored],
      order: ranking.slice(1),
    });
  });

  it('re-picks when the stored backend is no longer configured', () => {
    const decision = stickyDecision('carol', B, [0, 1, 2, 3], 'ftp://gone:21');
    expect(decision.kind).toBe('replace');
    if (decision.kind === 'replace') expect(decision.previous).toBe('ftp://gone:21');
  });

  it('stores a usable backend on first use when the best-ranked one is excluded', () => {
    const ranking = rendezvousRank('dave', B);
    const decision = stickyDecision('dave', B, ranking.slice(1), undefined);
    expect(decision).toMatchObject({ kind: 'store', backend: B[ranking[1]!] });
  });
});
