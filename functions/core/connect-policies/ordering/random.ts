import { type Random, shuffled } from '../../random.js';

/**
 * Random ordering: a uniformly random permutation of the usable positions, so the pick (the first)
 * is uniform over them and so is every fallback. No shared state.
 */
export function randomOrder(usable: readonly number[], random: Random): number[] {
  return shuffled(usable, random);
}
