import type { TlsCacheKind, TlsCacheStats } from '../../../contract/tls-cache.js';
import { type Item, keyOf, n, readNumber } from '../attributes.js';
import { isConditionFailure } from '../conditional.js';
import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '../dynamodb-sdk.js';
import { tlsCacheKeys } from '../keys.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';

/**
 * A cache's statistics item: mod_tls_shmcache's header counters (hits, misses, stored, deleted,
 * expired, errors, exceeded, exceeded_maxsz) plus `full`, and the live entry count and bytes that
 * enforce the budget. Every change is one atomic ADD, so any number of workers keep it exact.
 */
export const STAT_NAMES = [
  'hits',
  'misses',
  'stored',
  'deleted',
  'expired',
  'errors',
  'exceeded',
  'full',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** The caches with entries and statistics in the store: the operator's kinds and the backend sessions. */
export type CacheKind = TlsCacheKind | 'backend-sessions';

export interface StatsRecord {
  stats: TlsCacheStats;
  entries: number;
  bytes: number;
  createdAt?: number;
  maxEntries?: number;
  maxEntryBytes?: number;
}

/** Adds to counters (and to the entry count and bytes when given). */
export async function bumpStats(
  table: Table,
  kind: CacheKind,
  deltas: Partial<Record<StatName | 'entries' | 'bytes', number>>,
  nowMs: number,
): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, ReturnType<typeof n>> = { ':now': n(nowMs) };
  const adds: string[] = [];
  for (const [name, delta] of Object.entries(deltas)) {
    if (!delta) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = n(delta);
    adds.push(`#${name} :${name}`);
  }
  if (adds.length === 0) return;
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.stats(kind)),
        UpdateExpression: `ADD ${adds.join(', ')} SET createdAt = if_not_exists(createdAt, :now)`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    throw new StoreError(`cannot update the ${kind} cache statistics`, { cause: err });
  }
}

/**
 * Takes one slot for a new entry: +1 entry and `bytes`, only while fewer than `maxEntries` are
 * counted. False when the cache is full. Records the budget the caller works with, for `info`.
 */
export async function reserveSlot(
  table: Table,
  kind: CacheKind,
  bytes: number,
  limits: { maxEntries: number; maxEntryBytes: number },
  nowMs: number,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.stats(kind)),
        UpdateExpression:
          'ADD entries :one, #bytes :bytes SET createdAt = if_not_exists(createdAt, :now), maxEntries = :max, maxEntryBytes = :maxBytes',
        ConditionExpression: 'attribute_not_exists(entries) OR entries < :max',
        ExpressionAttributeNames: { '#bytes': 'bytes' },
        ExpressionAttributeValues: {
          ':one': n(1),
          ':bytes': n(bytes),
          ':max': n(limits.maxEntries),
          ':maxBytes': n(limits.maxEntryBytes),
          ':now': n(nowMs),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot reserve a slot in the ${kind} cache`, { cause: err });
  }
}

/** Remembers the largest entry refused for its size (mod_tls_shmcache's exceeded_maxsz). */
export async function recordExceeded(
  table: Table,
  kind: CacheKind,
  bytes: number,
  nowMs: number,
): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.stats(kind)),
        UpdateExpression: 'SET exceededMaxBytes = :bytes',
        ConditionExpression: 'attribute_not_exists(exceededMaxBytes) OR exceededMaxBytes < :bytes',
        ExpressionAttributeValues: { ':bytes': n(bytes) },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err))
      throw new StoreError(`cannot update the ${kind} cache statistics`, { cause: err });
  }
  // Counted after the size is recorded, so a reader that sees the count sees the size too.
  await bumpStats(table, kind, { exceeded: 1 }, nowMs);
}

/** Sets the entry count and bytes to what a full scan found (after a flush or a clear). */
export async function setCounts(
  table: Table,
  kind: CacheKind,
  counts: { entries: number; bytes: number },
): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.stats(kind)),
        UpdateExpression: 'SET entries = :entries, #bytes = :bytes',
        ExpressionAttributeNames: { '#bytes': 'bytes' },
        ExpressionAttributeValues: { ':entries': n(counts.entries), ':bytes': n(counts.bytes) },
      }),
    );
  } catch (err) {
    throw new StoreError(`cannot update the ${kind} cache statistics`, { cause: err });
  }
}

export async function readStats(table: Table, kind: CacheKind): Promise<StatsRecord> {
  let item: Item | undefined;
  try {
    const result = await table.client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.stats(kind)),
        ConsistentRead: true,
      }),
    );
    item = result.Item;
  } catch (err) {
    throw new StoreError(`cannot read the ${kind} cache statistics`, { cause: err });
  }
  const raw = item;
  const num = (name: string) => Math.max(0, readNumber(raw, name) ?? 0);
  const createdAt = readNumber(raw, 'createdAt');
  const maxEntries = readNumber(raw, 'maxEntries');
  const maxEntryBytes = readNumber(raw, 'maxEntryBytes');
  return {
    stats: {
      hits: num('hits'),
      misses: num('misses'),
      stored: num('stored'),
      deleted: num('deleted'),
      expired: num('expired'),
      errors: num('errors'),
      exceeded: num('exceeded'),
      exceededMaxBytes: num('exceededMaxBytes'),
      full: num('full'),
    },
    entries: num('entries'),
    bytes: num('bytes'),
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(maxEntries !== undefined ? { maxEntries } : {}),
    ...(maxEntryBytes !== undefined ? { maxEntryBytes } : {}),
  };
}

/** Removes the statistics item of a cache (mod_tls's `remove`: the shared memory segment is gone). */
export async function deleteStats(table: Table, kind: CacheKind): Promise<void> {
  try {
    await table.client.send(
      new DeleteItemCommand({ TableName: table.name, Key: keyOf(tlsCacheKeys.stats(kind)) }),
    );
  } catch (err) {
    throw new StoreError(`cannot remove the ${kind} cache statistics`, { cause: err });
  }
}
