import {
  advanceCursor,
  readShuffleRound,
  type ShuffleRound,
  startNextRound,
  type Table,
  takeFromRound,
} from '../../store/index.js';

/**
 * Where the pool-wide state of RoundRobin (its cursor) and Shuffle (its round) lives. In the store
 * (storePolicyState), every control plane on the table shares it: one store write per selection. A
 * control plane that is the only one on its store (the embedded store: no other process opens it)
 * keeps it in its own memory instead (processPolicyState): every selection goes through that
 * process, so the rotation and the rounds are the same, without a store write on every login; they
 * start again when the process restarts (as mod_proxy's do when its state file is new).
 */
export interface PolicyState {
  /** The next value (1 on first use) of a pool's RoundRobin cursor. */
  advanceCursor(pool: string, policy: string): Promise<number>;
  /** The pool's Shuffle round; undefined before the first. */
  readShuffleRound(pool: string): Promise<ShuffleRound | undefined>;
  /** Takes `id` out of the round; false when it is no longer in it (someone took it first). */
  takeFromRound(pool: string, id: string, nowMs: number): Promise<boolean>;
  /** Starts the round after `seen` with `remaining`; false when someone started it first. */
  startNextRound(
    pool: string,
    seen: number | undefined,
    remaining: readonly string[],
    nowMs: number,
  ): Promise<boolean>;
}

export function storePolicyState(table: Table): PolicyState {
  return {
    advanceCursor: (pool, policy) => advanceCursor(table, pool, policy),
    readShuffleRound: (pool) => readShuffleRound(table, pool),
    takeFromRound: (pool, id, nowMs) => takeFromRound(table, pool, id, nowMs),
    startNextRound: (pool, seen, remaining, nowMs) => startNextRound(table, pool, seen, remaining, nowMs),
  };
}

/** Pools (cursors, rounds) one process keeps at most; the least recently used goes first past it. */
const MAX_PROCESS_ENTRIES = 10_000;

/** A Map bounded in entries, least recently used dropped first. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    // Re-inserted so that the map's first key is the least recently used one.
    this.map.delete(key);
    if (this.map.size >= MAX_PROCESS_ENTRIES) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, value);
  }
}

export function processPolicyState(): PolicyState {
  const cursors = new Recent<number>();
  const rounds = new Recent<ShuffleRound>();
  return {
    advanceCursor: async (pool, policy) => {
      const key = `${pool}\n${policy}`;
      const next = (cursors.get(key) ?? 0) + 1;
      cursors.set(key, next);
      return next;
    },
    // A copy: the caller decides on what it read, as it does on a store item.
    readShuffleRound: async (pool) => {
      const round = rounds.get(pool);
      return round ? { round: round.round, remaining: new Set(round.remaining) } : undefined;
    },
    takeFromRound: async (pool, id) => {
      const round = rounds.get(pool);
      if (!round?.remaining.has(id)) return false;
      round.remaining.delete(id);
      rounds.set(pool, round);
      return true;
    },
    startNextRound: async (pool, seen, remaining) => {
      const round = rounds.get(pool);
      if ((round?.round ?? undefined) !== seen) return false;
      rounds.set(pool, { round: (seen ?? 0) + 1, remaining: new Set(remaining) });
      return true;
    },
  };
}
