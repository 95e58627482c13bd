import { rendezvousRank } from '../../rendezvous-hash.js';

/**
 * One sticky selection (PerUser, PerGroup, PerHost), decided from the mapping as read from the
 * store. The key's rendezvous ranking (see rendezvous-hash.ts) over the configured backends gives
 * both the first pick and every re-pick:
 *
 * - `keep`: the stored backend is still configured and usable in this session: it wins, even if the
 *   ranking now prefers another backend (so a list change does not move existing users).
 * - `store`: no mapping yet: the best-ranked usable backend, written only if still absent (the first
 *   writer wins and concurrent callers adopt its choice).
 * - `replace`: the stored backend is no longer configured, or failed in this session: the re-pick is
 *   the best-ranked usable backend (the stored one is not usable, so it is never re-picked), written
 *   only if the mapping still names `previous`.
 *
 * The order after the pick is the rest of the ranking, usable positions only.
 */
export type StickyDecision =
  | { kind: 'keep'; order: number[] }
  | { kind: 'store'; backend: string; order: number[] }
  | { kind: 'replace'; backend: string; previous: string; order: number[] };

/** `usable` is non-empty; `stored` is the live mapping's backend key, if any. */
export function stickyDecision(
  stickyKey: string,
  backends: readonly string[],
  usable: readonly number[],
  stored: string | undefined,
): StickyDecision {
  const usableSet = new Set(usable);
  const ranked = rendezvousRank(stickyKey, backends).filter((index) => usableSet.has(index));
  if (stored !== undefined) {
    const kept = ranked.find((index) => backends[index] === stored);
    if (kept !== undefined)
      return { kind: 'keep', order: [kept, ...ranked.filter((index) => index !== kept)] };
  }
  const backend = backends[ranked[0] as number] as string;
  return stored === undefined
    ? { kind: 'store', backend, order: ranked }
    : { kind: 'replace', backend, previous: stored, order: ranked };
}
