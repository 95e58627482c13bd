import { type ConnectPolicy, isStickyPolicy } from '../contract/connect-policies.js';
import type {
  PerUserFallback,
  ResolveBackendCandidate,
  ResolveBackendResponse,
} from '../contract/resolve-backend.js';
import type { SelectionContext } from './connect-policies/index.js';
import {
  candidateList,
  excludedPositions,
  type ListEntry,
  randomOrder,
  roundRobinOrder,
  selectLeastConns,
  selectLeastResponseTime,
  selectShuffle,
  selectSticky,
  usablePositions,
} from './connect-policies/index.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  expandDiscovered,
  restrictToActivePriority,
  weightedOrder,
} from './discovery/index.js';
import { InvalidRequestError } from './handler/index.js';
import {
  DEFAULT_HEALTH_SETTINGS,
  type HealthSettings,
  type HealthState,
  healthState,
} from './health/index.js';
import type { Random } from './random.js';
import type { Table } from './store/index.js';
import { advanceCursor, readPoolHealth } from './store/index.js';

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
  /** Not logged in yet: a sticky policy writes no mapping (contract/resolve-backend.ts). */
  provisional?: boolean;
  perUserFallback?: PerUserFallback;
}

export interface ResolveBackendOptions {
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: Random;
  stickyTtlMs?: number;
  /** Where `+srv` / `+txt` entries are resolved; default: the system's resolvers, default settings. */
  discovery?: DiscoveryContext;
  /** Passive / active health use; default DEFAULT_HEALTH_SETTINGS. */
  health?: HealthSettings;
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
  const { list } = found;
  const now = options.now ?? Date.now;
  const discovery = options.discovery ?? createDiscoveryContext(table, {}, now);
  const { entries, problems } = await expandDiscovered(discovery, found.entries);
  const notes = problems.length > 0 ? { notes: problems } : {};
  if (entries.length === 0) {
    return {
      candidates: [],
      list,
      refused:
        found.entries.length === 0
          ? 'no backends: none listed and none registered in the pool'
          : `no backends: ${problems.join('; ') || 'discovery found none'}`,
      ...notes,
    };
  }
  const excluded = excludedPositions(entries, request.exclude ?? [], request.excludeBackends ?? []);
  let usable = usablePositions(entries.length, excluded);
  if (usable.length === 0) return { candidates: [], list, ...notes };
  const settings = options.health ?? DEFAULT_HEALTH_SETTINGS;
  const states = await healthStates(table, request.pool, now(), settings);
  const stateOf = (position: number) => states.get((entries[position] as ListEntry).backend) ?? 'healthy';
  const healthy = usable.filter((position) => stateOf(position) !== 'unhealthy');
  if (healthy.length > 0) usable = healthy;
  else if (settings.whenAllUnhealthy === 'fail') {
    return {
      candidates: [],
      list,
      refused: `every backend that may be tried is unhealthy (${usable.map((p) => (entries[p] as ListEntry).backend).join(', ')}) and whenAllUnhealthy is fail`,
      ...notes,
    };
  }
  // RFC 2782: the lowest priority of each SRV name that still has a usable target, only.
  usable = restrictToActivePriority(usable, (position) => (entries[position] as ListEntry).srv);
  const usableSet = new Set(usable);
  const skipped = new Set(entries.flatMap((_, position) => (usableSet.has(position) ? [] : [position])));
  const context: SelectionContext = {
    table,
    now,
    random: options.random ?? Math.random,
    stickyTtlMs: options.stickyTtlMs ?? DEFAULT_STICKY_TTL_MS,
  };
  const backends = entries.map((entry) => entry.backend);
  const order = await select(context, request, { pool: request.pool, backends, usable, entries }, skipped);
  return {
    candidates: order.map((position) => toCandidate(entries[position] as ListEntry, stateOf(position))),
    list,
    ...notes,
  };
}

async function healthStates(
  table: Table,
  pool: string,
  nowMs: number,
  settings: HealthSettings,
): Promise<Map<string, HealthState>> {
  const records = await readPoolHealth(table, pool, nowMs);
  return new Map(records.map((record) => [record.backend, healthState(record, nowMs, settings)]));
}

function toCandidate(entry: ListEntry, state: HealthState): ResolveBackendCandidate {
  const health = state === 'healthy' ? {} : { health: state };
  if (entry.url !== undefined) {
    return {
      backend: entry.backend,
      url: entry.url,
      ...(entry.registry ? { registry: entry.registry } : {}),
      ...(entry.via ? { via: entry.via } : {}),
      ...health,
    };
  }
  return { backend: entry.backend, index: entry.index ?? 0, ...health };
}

async function select(
  context: SelectionContext,
  request: ResolveBackendRequestData,
  selection: { pool: string; backends: string[]; usable: number[]; entries: readonly ListEntry[] },
  excluded: ReadonlySet<number>,
): Promise<number[]> {
  const policy = request.policy;
  if (isStickyPolicy(policy)) {
    if (request.stickyKey === undefined) {
      throw new InvalidRequestError([{ path: 'stickyKey', message: `required by the ${policy} policy` }]);
    }
    return selectSticky(context, {
      ...selection,
      policy,
      stickyKey: request.stickyKey,
      provisional: request.provisional === true,
    });
  }
  switch (policy) {
    case 'Random': {
      // SRV weights count (RFC 2782's weighted pick); a backend not from SRV weighs 1.
      const { entries, usable } = selection;
      if (!usable.some((position) => entries[position]?.srv)) return randomOrder(usable, context.random);
      const weights = usable.map((position) => entries[position]?.srv?.weight ?? 1);
      return weightedOrder(weights, context.random).map((index) => usable[index] as number);
    }
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
