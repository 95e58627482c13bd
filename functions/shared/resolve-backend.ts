import { type ConnectPolicy, isStickyPolicy } from '../contract/connect-policies.js';
import type {
  PerUserFallback,
  ResolveBackendCandidate,
  ResolveBackendResponse,
} from '../contract/resolve-backend.js';
import { InvalidRequestError } from './handler/invalid-request-error.js';
import { excludedPositions, type ListEntry } from './policies/candidates.js';
import { randomOrder } from './policies/random.js';
import { roundRobinOrder } from './policies/round-robin.js';
import { usablePositions } from './policies/usable.js';
import type { Random } from './random.js';
import { candidateList } from './selectors/candidate-list.js';
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
  /** "pool" (default): `backends` is the pool's list; "user": the user's own (PerUser / PerGroup). */
  backendsScope?: 'pool' | 'user';
  exclude?: number[];
  excludeBackends?: string[];
  stickyKey?: string;
  perUserFallback?: PerUserFallback;
}

export interface ResolveBackendOptions {
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: Random;
  stickyTtlMs?: number;
}

/**
 * Orders a pool's backends under its connect policy. The list drawn from is the listed backends plus
 * the registered ones, or a user's (group's) own list (see candidateList). Every call is one
 * selection: a retry after a failed connect calls again with the failed backends excluded
 * (RoundRobin's cursor and the Shuffle round move on for every attempt, as in mod_proxy; a sticky
 * key's mapping moves to the re-pick). When every backend is excluded the answer is empty and no
 * state changes; a refused per-user lookup answers no candidate and the reason.
 */
export async function resolveBackend(
  table: Table,
  request: ResolveBackendRequestData,
  options: ResolveBackendOptions = {},
): Promise<ResolveBackendResponse> {
  const found = await candidateList(table, {
    pool: request.pool,
    policy: request.policy,
    backends: request.backends,
    backendsScope: request.backendsScope ?? 'pool',
    ...(request.stickyKey !== undefined ? { stickyKey: request.stickyKey } : {}),
    perUserFallback: request.perUserFallback ?? 'global',
  });
  if (found.kind === 'refused') return { candidates: [], list: found.list, refused: found.reason };
  const { entries, list } = found;
  if (entries.length === 0) {
    return { candidates: [], list, refused: 'no backends: none listed and none registered in the pool' };
  }
  const excluded = excludedPositions(entries, request.exclude ?? [], request.excludeBackends ?? []);
  const usable = usablePositions(entries.length, excluded);
  if (usable.length === 0) return { candidates: [], list };
  const context: SelectionContext = {
    table,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    stickyTtlMs: options.stickyTtlMs ?? DEFAULT_STICKY_TTL_MS,
  };
  const backends = entries.map((entry) => entry.backend);
  const order = await select(context, request, { pool: request.pool, backends, usable }, excluded);
  return { candidates: order.map((position) => toCandidate(entries[position] as ListEntry)), list };
}

function toCandidate(entry: ListEntry): ResolveBackendCandidate {
  if (entry.url !== undefined) {
    return {
      backend: entry.backend,
      url: entry.url,
      ...(entry.registry ? { registry: entry.registry } : {}),
    };
  }
  return { backend: entry.backend, index: entry.index ?? 0 };
}

async function select(
  context: SelectionContext,
  request: ResolveBackendRequestData,
  selection: { pool: string; backends: string[]; usable: number[] },
  excluded: ReadonlySet<number>,
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
      return roundRobinOrder(selection.backends.length, cursor, excluded);
    }
    case 'Shuffle':
      return selectShuffle(context, selection);
    case 'LeastConns':
      return selectLeastConns(context, selection);
    case 'LeastResponseTime':
      return selectLeastResponseTime(context, selection);
  }
}
