/**
 * The positions a selection may return: every position of the pool's list that did not already fail
 * in this session (`exclude`). Excluded positions are never returned by any policy.
 */
export function usablePositions(count: number, exclude: Iterable<number>): number[] {
  const excluded = new Set(exclude);
  const usable: number[] = [];
  for (let index = 0; index < count; index++) if (!excluded.has(index)) usable.push(index);
  return usable;
}
