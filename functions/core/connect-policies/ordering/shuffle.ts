import { type Random, randomInt, shuffled } from '../../random.js';

/**
 * One Shuffle selection, decided from the round as read from the store. A round is the set of
 * backend ids (see `backendId`) not yet used; the store holds it and every caller sharing the store
 * takes from the same set, so each backend is used exactly once per round.
 *
 * - `take`: pick uniformly among the round's remaining backends that this session may use; the
 *   caller removes `id` from the round with a conditional delete (fails if someone took it first).
 * - `refill`: nothing of the configured list is left in the round (or there is no round yet): pick
 *   uniformly among the usable backends and start the next round without the pick (`remaining`),
 *   conditional on the round not having moved on.
 * - `off-round`: the round still has backends, but all of them failed in this session (`exclude`):
 *   pick uniformly among the usable ones without touching the round, so the round stays whole for
 *   other sessions (the pick gets one session more than its share of this round).
 *
 * mod_proxy draws a random number below the remaining count and uses it as a backend index, so it
 * may pick a backend already used in the round; this draws among the remaining backends themselves.
 */
export type ShuffleStep =
  | { kind: 'take'; id: string; order: number[] }
  | { kind: 'refill'; remaining: string[]; order: number[] }
  | { kind: 'off-round'; order: number[] };

/**
 * `ids[i]` is the id of position `i`; `usable` is non-empty; `remaining` is the round's set as
 * stored (undefined or empty when there is no round, or it is used up).
 */
export function shuffleStep(
  ids: readonly string[],
  usable: readonly number[],
  remaining: ReadonlySet<string> | undefined,
  random: Random,
): ShuffleStep {
  const live = new Set(ids.filter((id) => remaining?.has(id)));
  if (live.size === 0) {
    const pick = drawById(ids, usable, random);
    const pickId = ids[pick];
    const rest = usable.filter((index) => index !== pick);
    return {
      kind: 'refill',
      remaining: [...new Set(ids)].filter((id) => id !== pickId),
      order: [pick, ...shuffled(rest, random)],
    };
  }
  const eligible = usable.filter((index) => live.has(ids[index] as string));
  if (eligible.length === 0) return { kind: 'off-round', order: shuffled(usable, random) };
  const pick = drawById(ids, eligible, random);
  const id = ids[pick] as string;
  const others = shuffled(
    eligible.filter((index) => index !== pick),
    random,
  );
  const outside = shuffled(
    usable.filter((index) => !live.has(ids[index] as string)),
    random,
  );
  return { kind: 'take', id, order: [pick, ...others, ...outside] };
}

/**
 * A uniform draw among the distinct backends of `positions` (not among positions, so a backend
 * listed twice is not twice as likely); answers its first position in `positions`.
 */
function drawById(ids: readonly string[], positions: readonly number[], random: Random): number {
  const distinct = [...new Set(positions.map((index) => ids[index] as string))];
  const id = distinct[randomInt(random, distinct.length)];
  return positions.find((index) => ids[index] === id) as number;
}
