import { keyOf, n, readNumber, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { addToExpiringCounter } from './expiring-counter.js';
import { EXPIRES_AT, epochSeconds, expiresAtFor } from './expiry.js';
import { extendLiveItem } from './extend-live-item.js';
import { keys, LEASE_PREFIX, SLOTS_PREFIX } from './keys.js';
import { queryLive } from './query-live.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * Connection-limit counts (MaxClients and friends), kept exactly as LeastConns keeps its leases
 * (leases.ts): one item per (group, member, edge worker) holding that worker's count, written only by
 * its worker, its expiry moved forward by every acquire and heartbeat. A worker that dies stops
 * extending its items and their counts drop out of every tally when they expire.
 */
export interface SlotRef {
  group: string;
  /** A client address (MaxHostsPerUser counts distinct members); '' when only the total matters. */
  member: string;
  workerId: string;
}

const COUNT = 'count';

/** +1 on the worker's item (a fresh one at 1 if none is live), expiry extended. */
export async function acquireSlot(
  table: Table,
  slot: SlotRef,
  nowMs: number,
  ttlMs: number,
): Promise<number> {
  return addToExpiringCounter(table, keys.connectionSlot(slot.group, slot.member, slot.workerId), {
    counter: COUNT,
    delta: 1,
    set: { member: s(slot.member), workerId: s(slot.workerId), updatedAt: n(nowMs) },
    nowMs,
    expiresAt: expiresAtFor(nowMs, ttlMs),
  });
}

/** -1 on the worker's item while it is live and positive (an expired one was already dropped). */
export async function releaseSlot(table: Table, slot: SlotRef, nowMs: number): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.connectionSlot(slot.group, slot.member, slot.workerId)),
        UpdateExpression: 'ADD #count :minusOne SET updatedAt = :nowMs',
        ConditionExpression: '#exp > :now AND #count > :zero',
        ExpressionAttributeNames: { '#count': COUNT, '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':minusOne': n(-1),
          ':zero': n(0),
          ':now': n(epochSeconds(nowMs)),
          ':nowMs': n(nowMs),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot release a connection slot of ${slot.group}`, { cause: err });
  }
}

/** A heartbeat: moves a live slot's expiry forward; false when it had expired already. */
export function extendSlot(table: Table, slot: SlotRef, nowMs: number, ttlMs: number): Promise<boolean> {
  const key = keys.connectionSlot(slot.group, slot.member, slot.workerId);
  return extendLiveItem(table, key, nowMs, ttlMs, `a connection slot of ${slot.group}`);
}

/** A group's live connections: the sum over every worker, and the number of distinct members. */
export async function tallySlots(
  table: Table,
  group: string,
  nowMs: number,
): Promise<{ total: number; members: number }> {
  try {
    const items = await queryLive(table, `${SLOTS_PREFIX}${partOf(group)}`, LEASE_PREFIX, nowMs);
    let total = 0;
    const members = new Set<string>();
    for (const item of items) {
      const count = readNumber(item, COUNT) ?? 0;
      if (count <= 0) continue;
      total += count;
      members.add(readString(item, 'member') ?? '');
    }
    return { total, members: members.size };
  } catch (err) {
    throw new StoreError(`cannot tally the connection slots of ${group}`, { cause: err });
  }
}

function partOf(group: string): string {
  return keys.connectionSlot(group, '', '').pk.slice(SLOTS_PREFIX.length);
}
