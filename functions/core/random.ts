/**
 * Randomness as a dependency: a function returning a uniform number in [0, 1), like Math.random.
 * Handlers default to Math.random; tests inject `seededRandom` so statistical checks cannot flake.
 */
export type Random = () => number;

/** A uniform integer in [0, count). */
export function randomInt(random: Random, count: number): number {
  return Math.min(count - 1, Math.floor(random() * count));
}

/** A uniformly random permutation of `items` (Fisher-Yates), leaving `items` untouched. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/** A small deterministic generator (mulberry32) for tests and reproducible simulations. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
