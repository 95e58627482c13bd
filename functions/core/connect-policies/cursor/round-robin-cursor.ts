import { advanceCursor, type Table } from '../../store/index.js';

/** The next value (1 on first use) of a pool's RoundRobin cursor. */
export type RoundRobinCursor = (pool: string, policy: string) => Promise<number>;

/** Cursors one process keeps at most (one per pool and policy); the oldest is dropped past it. */
const MAX_PROCESS_CURSORS = 10_000;

/**
 * The cursor in the store: one atomic `ADD` per selection, shared by every control-plane instance
 * on the table (Lambda, several `control-plane serve` processes on one DynamoDB table).
 */
export function storeCursor(table: Table): RoundRobinCursor {
  return (pool, policy) => advanceCursor(table, pool, policy);
}

/**
 * The cursor in this process's memory, for a control plane that is the only one on its store (the
 * embedded store: no other process opens it). Every selection goes through this process, so the
 * rotation is the store cursor's, without a store write on every login; it starts again at 1 when
 * the process restarts (as mod_proxy's does when its state file is new).
 */
export function processCursor(): RoundRobinCursor {
  const cursors = new Map<string, number>();
  return async (pool, policy) => {
    const key = `${pool}\n${policy}`;
    const next = (cursors.get(key) ?? 0) + 1;
    // Re-inserted so that the map's first key is the least recently used one.
    cursors.delete(key);
    if (cursors.size >= MAX_PROCESS_CURSORS) {
      const oldest = cursors.keys().next().value;
      if (oldest !== undefined) cursors.delete(oldest);
    }
    cursors.set(key, next);
    return next;
  };
}
