import type { Random } from '../../random.js';
import type { Table } from '../../store/index.js';

/** What a stateful policy needs besides the request: the store, a clock and randomness. */
export interface SelectionContext {
  table: Table;
  /** Epoch milliseconds. */
  now: () => number;
  random: Random;
  /** How long a sticky mapping lives without use (renewed once less than half of it is left). */
  stickyTtlMs: number;
}

/** One selection: the pool, its backends in configuration order, and the positions it may return (non-empty). */
export interface Selection {
  pool: string;
  backends: readonly string[];
  usable: readonly number[];
}
