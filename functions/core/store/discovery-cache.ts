import { type Item, keyOf, n, readNumber, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { GetItemCommand, UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, expiresAtFor, isLive } from './expiry.js';
import { DISCOVERY_PK, DISCOVERY_PREFIX, keys } from './keys.js';
import { queryLive } from './query-live.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * A discovery answer as stored: the answer, when it was resolved, until when it is valid (its TTL),
 * when it should be refreshed, and until when the scheduled run keeps refreshing it (`usedUntil`,
 * renewed by every on-demand resolution). The item itself expires `staleForMs` after `validUntil`,
 * so a stale answer can stand in while DNS does not answer. The answer is the discovery module's
 * (`D`); the store only needs its source and stores the rest as JSON.
 */
/** What the store needs of an answer: the discovery URL it answers. */
export interface StoredAnswer {
  source: string;
}

export interface CachedDiscovery<D extends StoredAnswer> {
  discovery: D;
  resolvedAt: number;
  validUntil: number;
  refreshAt: number;
  usedUntil: number;
}

export async function readCachedDiscovery<D extends StoredAnswer>(
  table: Table,
  source: string,
  nowMs: number,
): Promise<CachedDiscovery<D> | undefined> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(keys.discovery(source)), ConsistentRead: true }),
    );
    return item && isLive(readNumber(item, EXPIRES_AT), nowMs) ? fromItem<D>(item) : undefined;
  } catch (err) {
    throw new StoreError(`cannot read the discovery answer for ${source}`, { cause: err });
  }
}

/** Every cached answer the scheduled run should still refresh (`usedUntil` in the future). */
export async function listCachedDiscoveries<D extends StoredAnswer>(
  table: Table,
  nowMs: number,
): Promise<CachedDiscovery<D>[]> {
  const items = await queryLive(table, DISCOVERY_PK, DISCOVERY_PREFIX, nowMs).catch((err: unknown) => {
    throw new StoreError('cannot list the cached discovery answers', { cause: err });
  });
  return items.flatMap((item) => {
    const cached = fromItem<D>(item);
    return cached && cached.usedUntil > nowMs ? [cached] : [];
  });
}

/**
 * Stores an answer unless a newer one is already stored (two workers resolving at once both write;
 * the later resolution wins, whichever write lands last). False when a newer answer was kept.
 */
export async function writeCachedDiscovery<D extends StoredAnswer>(
  table: Table,
  cached: CachedDiscovery<D>,
  staleForMs: number,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.discovery(cached.discovery.source)),
        UpdateExpression:
          'SET #source = :source, answer = :answer, resolvedAt = :resolvedAt, validUntil = :validUntil, refreshAt = :refreshAt, usedUntil = :usedUntil, #exp = :exp',
        ConditionExpression: 'attribute_not_exists(resolvedAt) OR resolvedAt <= :resolvedAt',
        ExpressionAttributeNames: { '#source': 'source', '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':source': s(cached.discovery.source),
          ':answer': s(JSON.stringify(cached.discovery)),
          ':resolvedAt': n(cached.resolvedAt),
          ':validUntil': n(cached.validUntil),
          ':refreshAt': n(cached.refreshAt),
          ':usedUntil': n(cached.usedUntil),
          ':exp': n(expiresAtFor(cached.validUntil, staleForMs)),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot store the discovery answer for ${cached.discovery.source}`, { cause: err });
  }
}

function fromItem<D extends StoredAnswer>(item: Item): CachedDiscovery<D> | undefined {
  const answer = readString(item, 'answer');
  const resolvedAt = readNumber(item, 'resolvedAt');
  const validUntil = readNumber(item, 'validUntil');
  const refreshAt = readNumber(item, 'refreshAt');
  if (
    answer === undefined ||
    resolvedAt === undefined ||
    validUntil === undefined ||
    refreshAt === undefined
  ) {
    return undefined;
  }
  try {
    return {
      discovery: JSON.parse(answer) as D,
      resolvedAt,
      validUntil,
      refreshAt,
      usedUntil: readNumber(item, 'usedUntil') ?? 0,
    };
  } catch {
    return undefined;
  }
}
