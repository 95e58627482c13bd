import { describe, expect, it } from 'vitest';
import { processPolicyState } from '../../../../../functions/core/connect-policies/index.js';

describe('processPolicyState (RoundRobin and Shuffle state of a control plane alone on its store)', () => {
  it('counts the cursor from 1, separately per pool and policy', async () => {
    const state = processPolicyState();
    const next = (pool: string, policy = 'RoundRobin') => state.advanceCursor(pool, policy);
    expect([await next('a'), await next('a'), await next('a')]).toEqual([1, 2, 3]);
    expect(await next('b')).toBe(1);
    expect(await next('a', 'Other')).toBe(1);
    expect(await next('a')).toBe(4);
  });

  it('keeps at most 10,000 cursors, dropping the least recently used', async () => {
    const state = processPolicyState();
    const next = (pool: string) => state.advanceCursor(pool, 'RoundRobin');
    await next('first');
    await next('kept');
    for (let i = 0; i < 9_998; i++) await next(`pool-${i}`);
    // Using "kept" again makes "first" the least recently used one.
    expect(await next('kept')).toBe(2);
    await next('one-more');
    expect(await next('kept')).toBe(3);
    expect(await next('first')).toBe(1);
  });

  it('runs Shuffle rounds with the conditions of the store: one start per round, each id taken once', async () => {
    const state = processPolicyState();
    expect(await state.readShuffleRound('p')).toBeUndefined();
    // Starting "after round 3" when there is none loses, as the store's condition does.
    expect(await state.startNextRound('p', 3, ['x'], 0)).toBe(false);
    expect(await state.startNextRound('p', undefined, ['a', 'b'], 0)).toBe(true);
    expect(await state.startNextRound('p', undefined, ['c'], 0)).toBe(false);
    const round = await state.readShuffleRound('p');
    expect(round).toEqual({ round: 1, remaining: new Set(['a', 'b']) });
    // What was read is a copy: taking changes the state, not the reader's view.
    expect(await state.takeFromRound('p', 'a', 0)).toBe(true);
    expect(await state.takeFromRound('p', 'a', 0)).toBe(false);
    expect(round?.remaining.has('a')).toBe(true);
    expect(await state.readShuffleRound('p')).toEqual({ round: 1, remaining: new Set(['b']) });
    expect(await state.startNextRound('p', 1, [], 0)).toBe(true);
    expect(await state.readShuffleRound('p')).toEqual({ round: 2, remaining: new Set() });
  });
});
