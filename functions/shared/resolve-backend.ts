import type { ResolveBackendRequest, ResolveBackendResponse } from '../contract/resolve-backend.js';
import { roundRobinOrder } from './policies/round-robin.js';
import { advanceCursor } from './store/policy-cursor.js';
import type { Table } from './store/table.js';

type Request = Required<Pick<ResolveBackendRequest, 'pool' | 'policy' | 'backends'>> & { exclude: number[] };

/**
 * Orders a pool's backends under its connect policy. Every call is one selection: a retry after a
 * failed connect calls again (advancing the shared cursor, as mod_proxy's RoundRobin does on
 * failure), with the failed positions excluded.
 */
export async function resolveBackend(table: Table, request: Request): Promise<ResolveBackendResponse> {
  const exclude = new Set(request.exclude);
  if (request.backends.every((_, index) => exclude.has(index))) return { candidates: [] };
  const cursor = await advanceCursor(table, request.pool, request.policy);
  const order = roundRobinOrder(request.backends.length, cursor, exclude);
  return { candidates: order.map((index) => ({ index, backend: request.backends[index] ?? '' })) };
}
