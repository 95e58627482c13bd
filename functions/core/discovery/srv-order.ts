import type { Random } from '../random.js';

/**
 * RFC 2782's selection within one priority: repeatedly draw a number in [0, sum of weights] and take
 * the first record (zero weights first) whose running sum reaches it. Returns the positions of
 * `weights` in the order drawn. A record of weight 0 is picked only when nothing heavier is left, or
 * with a tiny chance when the draw is 0, as the RFC says.
 */
export function weightedOrder(weights: readonly number[], random: Random): number[] {
  const left = weights
    .map((weight, position) => ({ weight: Math.max(0, weight), position }))
    .sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
  const order: number[] = [];
  while (left.length > 0) {
    const sum = left.reduce((total, record) => total + record.weight, 0);
    const draw = sum === 0 ? 0 : Math.floor(random() * (sum + 1));
    let running = 0;
    let chosen = left.length - 1;
    for (let i = 0; i < left.length; i++) {
      running += (left[i] as { weight: number }).weight;
      if (running >= draw) {
        chosen = i;
        break;
      }
    }
    order.push((left[chosen] as { position: number }).position);
    left.splice(chosen, 1);
  }
  return order;
}

/** A record's place in an SRV answer: what RFC 2782 orders by. */
export interface SrvPlace {
  priority: number;
  weight: number;
}

/**
 * The full RFC 2782 order of SRV records: priorities ascending, weighted random within each. Returns
 * positions of `records`.
 */
export function srvOrder(records: readonly SrvPlace[], random: Random): number[] {
  const priorities = [...new Set(records.map((record) => record.priority))].sort((a, b) => a - b);
  return priorities.flatMap((priority) => {
    const positions = records.flatMap((record, position) => (record.priority === priority ? [position] : []));
    return weightedOrder(
      positions.map((position) => (records[position] as SrvPlace).weight),
      random,
    ).map((index) => positions[index] as number);
  });
}

/**
 * Clients must use the lowest priority first (RFC 2782): of the targets of one SRV name, only those
 * of the lowest priority that still has a usable target may be returned. `groupOf` names the SRV
 * name a position came from (undefined for backends not from SRV, which are never restricted).
 */
export function restrictToActivePriority(
  usable: readonly number[],
  groupOf: (position: number) => { group: string; priority: number } | undefined,
): number[] {
  const lowest = new Map<string, number>();
  for (const position of usable) {
    const place = groupOf(position);
    if (!place) continue;
    const seen = lowest.get(place.group);
    if (seen === undefined || place.priority < seen) lowest.set(place.group, place.priority);
  }
  return usable.filter((position) => {
    const place = groupOf(position);
    return !place || place.priority === lowest.get(place.group);
  });
}
