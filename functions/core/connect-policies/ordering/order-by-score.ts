import type { Random } from '../../random.js';

/**
 * Orders positions by ascending score; equal scores are broken at random (each position draws one
 * uniform number per selection), so ties spread load instead of always favouring the first listed
 * backend, and concurrent callers that see the same counts do not all pick the same backend.
 */
export function orderByScore(
  usable: readonly number[],
  score: (index: number) => number,
  random: Random,
): number[] {
  const ranked = usable.map((index) => ({ index, score: score(index), tiebreak: random() }));
  ranked.sort((a, b) => a.score - b.score || a.tiebreak - b.tiebreak || a.index - b.index);
  return ranked.map((entry) => entry.index);
}
