/**
 * RoundRobin ordering: start at the position the shared cursor names and walk the list once,
 * skipping what already failed. The cursor counts from 1, so the first pick is position 0 (as in
 * mod_proxy, whose stored index starts at n-1).
 */
export function roundRobinOrder(count: number, cursor: number, exclude: ReadonlySet<number>): number[] {
  const start = (((cursor - 1) % count) + count) % count;
  const order: number[] = [];
  for (let step = 0; step < count; step++) {
    const index = (start + step) % count;
    if (!exclude.has(index)) order.push(index);
  }
  return order;
}
