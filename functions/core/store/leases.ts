import { keyOf, n, readNumber, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { addToExpiringCounter } from './expiring-counter.js';
import { EXPIRES_AT, epochSeconds, expiresAtFor } from './expiry.js';
import { extendLiveItem } from './extend-live-item.js';
import { keys, LEASE_PREFIX, poolPk } from './keys.js';
import { queryLive } from './query-live.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * Connection leases: one item per (pool, backend, edge worker) holding that worker's count of live
 * sessions on that backend. Only its worker writes it; its `expiresAt` moves forward with every
 * connect and heartbeat, so a worker that dies stops extending its leases and their counts drop out
 * of every sum when they expire, with nobody having to clean up after it.
 */
export interface LeaseRef {
  pool: string;
  backend: string;
  workerId: string;
}

const COUNT = 'count';

/** A session connected: +1 on the worker's lease (a fresh lease at 1 if none is live), expiry extended. */
export async function acquireLease(
  table: Table,
  lease: LeaseRef,
  nowMs: number,
  ttlMs: number,
): Promise<{ count: number; expiresAt: number }> {
  const expiresAt = expiresAtFor(nowMs, ttlMs);
  const count = await addToExpiringCounter(table, keys.lease(lease.pool, lease.backend, lease.workerId), {
    counter: COUNT,
    delta: 1,
    set: { backend: s(lease.backend), workerId: s(lease.workerId), updatedAt: n(nowMs) },
    nowMs,
    expiresAt,
  });
  return { count, expiresAt };
}

/**
 * A session ended: -1 on the worker's lease, only while the lease is live and its count positive
 * (the condition makes it atomic and keeps the count from going below zero). An expired lease's
 * sessions were already dropped from the sums, so there is nothing to take back.
 */
export async function releaseLease(
  table: Table,
  lease: LeaseRef,
  nowMs: number,
): Promise<{ released: boolean; count: number }> {
  try {
    const result = await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.lease(lease.pool, lease.backend, lease.workerId)),
        UpdateExpression: 'ADD #count :minusOne SET updatedAt = :nowMs',
        ConditionExpression: '#exp > :now AND #count > :zero',
        ExpressionAttributeNames: { '#count': COUNT, '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':minusOne': n(-1),
          ':zero': n(0),
          ':now': n(epochSeconds(nowMs)),
          ':nowMs': n(nowMs),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { released: true, count: readNumber(result.Attributes, COUNT) ?? 0 };
  } catch (err) {
    if (isConditionFailure(err)) return { released: false, count: 0 };
    throw new StoreError(`cannot release lease of ${lease.workerId} on ${lease.backend}`, { cause: err });
  }
}

/** A heartbeat: moves a live lease's expiry forward; false when it had expired already. */
export function extendLease(table: Table, lease: LeaseRef, nowMs: number, ttlMs: number): Promise<boolean> {
  const key = keys.lease(lease.pool, lease.backend, lease.workerId);
  return extendLiveItem(table, key, nowMs, ttlMs, `lease of ${lease.workerId} on ${lease.backend}`);
}

/** Live connections per backend key of a pool: the sum of every worker's unexpired lease. */
export async function activeConnections(
  table: Table,
  pool: string,
  nowMs: number,
): Promise<Map<string, number>> {
  try {
    const items = await queryLive(table, poolPk(pool), LEASE_PREFIX, nowMs);
    const totals = new Map<string, number>();
    for (const item of items) {
      const backend = readString(item, 'backend');
      const count = readNumber(item, COUNT) ?? 0;
      if (backend !== undefined && count > 0) totals.set(backend, (totals.get(backend) ?? 0) + count);
    }
    return totals;
  } catch (err) {
    throw new StoreError(`cannot read the leases of pool ${pool}`, { cause: err });
  }
}
