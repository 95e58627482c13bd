import { type Item, keyOf, n, readNumber, readString } from '../attributes.js';
import { isConditionFailure } from '../conditional.js';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '../dynamodb-sdk.js';
import { EXPIRES_AT } from '../expiry.js';
import {
  BACKEND_SESSION_PREFIX,
  OCSP_RESPONSE_PREFIX,
  TLS_SESSION_PREFIX,
  TLS_SESSION_SHARDS,
  tlsCacheKeys,
} from '../keys.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';
import { bumpStats, type CacheKind, recordExceeded, reserveSlot, setCounts } from './cache-stats.js';

/**
 * The entries of one shared cache (TLS sessions or OCSP responses), with mod_tls_shmcache's
 * budget: at most `maxEntries` live entries (its slots) of at most `maxEntryBytes` each. Each entry
 * item carries `bytes`, `expiresMs` (exact expiry) and `expiresAt` (seconds, the table's TTL).
 * When the cache is full, expired entries are removed first (as mod_tls_shmcache does); if that
 * frees nothing, the entry is not stored and counted as `full`.
 */
interface Layout {
  partitions: string[];
  prefix: string;
  key(id: string): { pk: string; sk: string };
}

const LAYOUTS: Record<CacheKind, Layout> = {
  sessions: {
    partitions: Array.from({ length: TLS_SESSION_SHARDS }, (_, shard) => tlsCacheKeys.sessionShardPk(shard)),
    prefix: TLS_SESSION_PREFIX,
    key: tlsCacheKeys.session,
  },
  ocsp: { partitions: [tlsCacheKeys.ocspPk], prefix: OCSP_RESPONSE_PREFIX, key: tlsCacheKeys.ocsp },
  'backend-sessions': {
    partitions: [tlsCacheKeys.backendSessionPk],
    prefix: BACKEND_SESSION_PREFIX,
    key: tlsCacheKeys.backendSession,
  },
};

export interface EntryLimits {
  maxEntries: number;
  maxEntryBytes: number;
}

export type PutResult = 'stored' | 'exceeded' | 'full';

const EXPIRES_MS = 'expiresMs';
const BYTES = 'bytes';

/** Stores (or replaces) one entry. `attributes` holds the payload; `bytes` is its size for the budget. */
export async function putEntry(
  table: Table,
  kind: CacheKind,
  id: string,
  entry: { attributes: Item; bytes: number; expiresMs: number },
  limits: EntryLimits,
  nowMs: number,
): Promise<PutResult> {
  if (entry.bytes > limits.maxEntryBytes) {
    await recordExceeded(table, kind, entry.bytes, nowMs);
    return 'exceeded';
  }
  const key = LAYOUTS[kind].key(id);
  let reserved = await reserveSlot(table, kind, entry.bytes, limits, nowMs);
  // A full cache may still replace an entry it holds (a refreshed OCSP response): no new slot.
  let replacing = false;
  if (!reserved) replacing = await exists(table, key);
  if (
    !reserved &&
    !replacing &&
    mayFlush(table, kind, nowMs) &&
    (await flushExpired(table, kind, nowMs)) > 0
  ) {
    reserved = await reserveSlot(table, kind, entry.bytes, limits, nowMs);
  }
  if (!reserved && !replacing) {
    await bumpStats(table, kind, { full: 1 }, nowMs);
    return 'full';
  }
  let old: Item | undefined;
  try {
    const result = await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...keyOf(key),
          ...entry.attributes,
          [BYTES]: n(entry.bytes),
          [EXPIRES_MS]: n(entry.expiresMs),
          [EXPIRES_AT]: n(Math.ceil(entry.expiresMs / 1000)),
          storedAt: n(nowMs),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    old = result.Attributes;
  } catch (err) {
    if (reserved) {
      await bumpStats(table, kind, { entries: -1, bytes: -entry.bytes }, nowMs).catch(() => undefined);
    }
    throw new StoreError(`cannot store a ${kind} cache entry`, { cause: err });
  }
  const oldBytes = old ? (readNumber(old, BYTES) ?? 0) : 0;
  // With a slot taken, a replaced entry gives its own slot back. Without one (replacing in a full
  // cache), only the size changes; if the old entry vanished meanwhile, this one takes its place.
  const counts = reserved
    ? old
      ? { entries: -1, bytes: -oldBytes }
      : {}
    : { bytes: entry.bytes - oldBytes, ...(old ? {} : { entries: 1 }) };
  await bumpStats(table, kind, { stored: 1, ...counts }, nowMs);
  return 'stored';
}

async function exists(table: Table, key: { pk: string; sk: string }): Promise<boolean> {
  try {
    const result = await table.client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: keyOf(key),
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return result.Item !== undefined;
  } catch (err) {
    throw new StoreError('cannot read a cache entry', { cause: err });
  }
}

/**
 * A full cache is flushed (every partition scanned) at most once per FLUSH_INTERVAL_MS per
 * function instance: while it stays full of live entries, every new entry would otherwise cost a
 * scan. In between, new entries are refused as `full` at the price of one conditional write.
 */
export const FLUSH_INTERVAL_MS = 5000;
const lastFlush = new Map<string, number>();

function mayFlush(table: Table, kind: CacheKind, nowMs: number): boolean {
  const key = `${table.name}\u0000${kind}`;
  const last = lastFlush.get(key);
  if (last !== undefined && nowMs - last < FLUSH_INTERVAL_MS && nowMs >= last) return false;
  lastFlush.set(key, nowMs);
  return true;
}

export type GetResult = { result: 'hit'; item: Item; expiresMs: number } | { result: 'miss' | 'expired' };

/** Looks one entry up; an expired one is removed and reported as such. Counts hits, misses and expiries. */
export async function getEntry(table: Table, kind: CacheKind, id: string, nowMs: number): Promise<GetResult> {
  let item: Item | undefined;
  try {
    const result = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(LAYOUTS[kind].key(id)), ConsistentRead: true }),
    );
    item = result.Item;
  } catch (err) {
    throw new StoreError(`cannot read a ${kind} cache entry`, { cause: err });
  }
  if (!item) {
    await bumpStats(table, kind, { misses: 1 }, nowMs);
    return { result: 'miss' };
  }
  const expiresMs = readNumber(item, EXPIRES_MS) ?? 0;
  if (expiresMs <= nowMs) {
    const removed = await deleteIf(table, kind, id, { expiredAt: nowMs });
    await bumpStats(
      table,
      kind,
      { misses: 1, expired: 1, ...(removed ? { entries: -1, bytes: -removed.bytes } : {}) },
      nowMs,
    );
    return { result: 'expired' };
  }
  await bumpStats(table, kind, { hits: 1 }, nowMs);
  return { result: 'hit', item, expiresMs };
}

/** Removes one entry; true when there was one. */
export async function deleteEntry(
  table: Table,
  kind: CacheKind,
  id: string,
  nowMs: number,
): Promise<boolean> {
  const removed = await deleteIf(table, kind, id, {});
  if (removed) await bumpStats(table, kind, { deleted: 1, entries: -1, bytes: -removed.bytes }, nowMs);
  return removed !== undefined;
}

async function deleteIf(
  table: Table,
  kind: CacheKind,
  id: string,
  condition: { expiredAt?: number },
): Promise<{ bytes: number } | undefined> {
  try {
    const result = await table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: keyOf(LAYOUTS[kind].key(id)),
        ReturnValues: 'ALL_OLD',
        ...(condition.expiredAt !== undefined
          ? {
              ConditionExpression: '#exp <= :now',
              ExpressionAttributeNames: { '#exp': EXPIRES_MS },
              ExpressionAttributeValues: { ':now': n(condition.expiredAt) },
            }
          : {}),
      }),
    );
    return result.Attributes ? { bytes: readNumber(result.Attributes, BYTES) ?? 0 } : undefined;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw new StoreError(`cannot delete a ${kind} cache entry`, { cause: err });
  }
}

/** One entry as listed (no payload). */
export interface ListedEntry {
  id: string;
  item: Item;
  bytes: number;
  expiresMs: number;
}

/** Every entry of a cache, expired ones included, without their payload. */
export async function listEntries(
  table: Table,
  kind: CacheKind,
  attributes: string[] = [],
): Promise<ListedEntry[]> {
  const layout = LAYOUTS[kind];
  const pages = await Promise.all(
    layout.partitions.map(async (pk) => {
      const items: Item[] = [];
      let startKey: Item | undefined;
      do {
        const page = await table.client.send(
          new QueryCommand({
            TableName: table.name,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: layout.prefix } },
            ProjectionExpression: ['pk', 'sk', BYTES, EXPIRES_MS, ...attributes]
              .map((_, i) => `#a${i}`)
              .join(', '),
            ExpressionAttributeNames: Object.fromEntries(
              ['pk', 'sk', BYTES, EXPIRES_MS, ...attributes].map((name, i) => [`#a${i}`, name]),
            ),
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items;
    }),
  ).catch((err: unknown) => {
    throw new StoreError(`cannot list the ${kind} cache`, { cause: err });
  });
  return pages.flat().map((item) => ({
    id: (readString(item, 'sk') ?? '').slice(layout.prefix.length),
    item,
    bytes: readNumber(item, BYTES) ?? 0,
    expiresMs: readNumber(item, EXPIRES_MS) ?? 0,
  }));
}

/**
 * Removes every expired entry, then sets the entry count and bytes to what is left (which also
 * repairs the count after DynamoDB's TTL deleted items behind its back). Returns how many went.
 */
export async function flushExpired(table: Table, kind: CacheKind, nowMs: number): Promise<number> {
  const entries = await listEntries(table, kind);
  let removed = 0;
  let live = 0;
  let liveBytes = 0;
  for (const entry of entries) {
    if (entry.expiresMs > nowMs) {
      live += 1;
      liveBytes += entry.bytes;
    } else if (await deleteIf(table, kind, entry.id, { expiredAt: nowMs })) {
      removed += 1;
    }
  }
  await setCounts(table, kind, { entries: live, bytes: liveBytes });
  if (removed > 0) await bumpStats(table, kind, { expired: removed }, nowMs);
  return removed;
}

/** Removes every entry, expired or not (`cache clear`); returns how many. */
export async function clearEntries(table: Table, kind: CacheKind, nowMs: number): Promise<number> {
  const entries = await listEntries(table, kind);
  let cleared = 0;
  for (const entry of entries) {
    if (await deleteIf(table, kind, entry.id, {})) cleared += 1;
  }
  await setCounts(table, kind, { entries: 0, bytes: 0 });
  if (cleared > 0) await bumpStats(table, kind, { deleted: cleared }, nowMs);
  return cleared;
}
