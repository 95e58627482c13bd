import { type ConnectPolicy, isStickyPolicy } from '../contract/connect-policies.js';
import type { ResolveBackendResponse } from '../contract/resolve-backend.js';
import { InvalidRequestError } from './handler/invalid-request-error.js';
import { randomOrder } from './policies/random.js';
import { roundRobinOrder } from './policies/round-robin.js';
import { usablePositions } from './policies/usable.js';
import type { Random } from './random.js';
import { selectLeastConns } from './selectors/least-conns.js';
import { selectLeastResponseTime } from './selectors/least-response-time.js';
import type { SelectionContext } from './selectors/selection.js';
import { selectShuffle } from './selectors/shuffle.js';
import { selectSticky } from './selectors/sticky.js';
import { advanceCursor } from './store/policy-cursor.js';
import type { Table } from './store/table.js';

/** How long a sticky mapping lives without being used (renewed on use). */
export const DEFAULT_STICKY_TTL_MS = 30 * 24 * 3600 * 1000;

export interface ResolveBackendRequestData {
  pool: string;
  policy: ConnectPolicy;
  backends: string[];
  exclude?: number[];
  stickyKey?: string;
}

export interface ResolveBackendOptions {
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: Random;
  stickyTtlMs?: number;
}

/**
 * Orders a pool's backends under its connect policy. Every call is one selection: a retry after a
 * failed connect calls again with the failed positions excluded (RoundRobin's cursor and the
 * Shuffle round move on for every attempt, as in mod_proxy; a sticky key's mapping moves to the
 * re-pick). When every backend is excluded the answer is empty and no state changes.
 */
export async function resolveBackend(
  table: Table,
  request: ResolveBackendRequestData,
  options: ResolveBackendOptions = {},
): Promise<ResolveBackendResponse> {
  const usable = usablePositions(request.backends.length, request.exclude ?? []);
  if (usable.length === 0) return { candidates: [] };
  const context: SelectionContext = {
    table,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    stickyTtlMs: options.stickyTtlMs ?? DEFAULT_STICKY_TTL_MS,
  };
  const selection = { pool: request.pool, backends: request.backends, usable };
  const order = await select(context, request, selection);
  return { candidates: order.map((index) => ({ index, backend: request.backends[index] ?? '' })) };
}

async function select(
  context: SelectionContext,
  request: ResolveBackendRequestData,
  selection: { pool: string; backends: string[]; usable: number[] },
): Promise<number[]> {
  const policy = request.policy;
  if (isStickyPolicy(policy)) {
    if (request.stickyKey === undefined) {
      throw new InvalidRequestError([{ path: 'stickyKey', message: `required by the ${policy} policy` }]);
    }
    return selectSticky(context, { ...selection, policy, stickyKey: request.stickyKey });
  }
  switch (policy) {
    case 'Random':
      return randomOrder(selection.usable, context.random);
    case 'RoundRobin': {
      const cursor = await advanceCursor(context.table, request.pool, policy);
      return roundRobinOrder(request.backends.length, cursor, new Set(request.exclude));
    }
    case 'Shuffle':
      return selectShuffle(context, selection);
    case 'LeastConns':
      return selectLeastConns(context, selection);
    case 'LeastResponseTime':
      return selectLeastResponseTime(context, selection);
  }
}
