import { n, s } from './attributes.js';
import { addToExpiringCounter } from './expiring-counter.js';
import { expiresAtFor } from './expiry.js';
import { keys } from './keys.js';
import type { Table } from './table.js';

/**
 * Failed connect attempts per (pool, backend): a count, the last reason, time and worker. Kept for
 * operators and the coming health checks; it is never a connection count (mod_proxy counts failed
 * attempts as connections, so a dead backend looked busy to LeastConns). The count covers failures
 * since the item was last written fresh: it expires `CONNECT_FAILURE_TTL_MS` after the last failure.
 */
export const CONNECT_FAILURE_TTL_MS = 24 * 3600 * 1000;

const MAX_REASON_LENGTH = 1024;

export async function recordConnectFailure(
  table: Table,
  failure: { pool: string; backend: string; reason: string; workerId?: string },
  nowMs: number,
): Promise<number> {
  return addToExpiringCounter(table, keys.connectFailures(failure.pool, failure.backend), {
    counter: 'failures',
    delta: 1,
    set: {
      backend: s(failure.backend),
      lastReason: s(failure.reason.slice(0, MAX_REASON_LENGTH)),
      lastFailureAt: n(nowMs),
      ...(failure.workerId ? { lastWorkerId: s(failure.workerId) } : {}),
    },
    nowMs,
    expiresAt: expiresAtFor(nowMs, CONNECT_FAILURE_TTL_MS),
  });
}
