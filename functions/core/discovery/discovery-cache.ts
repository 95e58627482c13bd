import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type Item, keyOf, n, readNumber, readString, s } from '../store/attributes.js';
import { isConditionFailure } from '../store/conditional.js';
import { EXPIRES_AT, expiresAtFor, isLive } from '../store/expiry.js';
import { DISCOVERY_PK, DISCOVERY_PREFIX, keys } from '../store/keys.js';
import { queryLive } from '../store/query-live.js';
import { StoreError } from '../store/store-error.js';
import type { Table } from '../store/table.js';
import type { Discovery } from './discover.js';

/**
 * A discovery answer as stored: the answer, when it was resolved, until when it is valid (its TTL),
 * when it should be refreshed, and until when the scheduled run keeps refreshing it (`usedUntil`,
 * renewed by every on-demand resolution). The item itself expires `staleForMs` after `validUntil`,
 * so a stale answer can stand in while DNS does not answer.
 */
export interface CachedDiscovery {
  discovery: Discovery;
  resolvedAt: number;
  validUntil: number;
  refreshAt: number;
  usedUntil: number;
}

export async function readCachedDiscovery(
  table: Table,
  source: string,
  nowMs: number,
): Promise<CachedDiscovery | undefined> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(keys.discovery(source)), ConsistentRead: true }),
    );
    return item && isLive(readNumber(item, EXPIRES_AT), nowMs) ? fromItem(item) : undefined;
  } catch (err) {
    throw new StoreError(`cannot read the discovery answer for ${source}`, { cause: err });
  }
}

/** Every cached answer the scheduled run should still refresh (`usedUntil` in the future). */
export async function listCachedDiscoveries(table: Table, nowMs: number): Promise<CachedDiscovery[]> {
  const items = await queryLive(table, DISCOVERY_PK, DISCOVERY_PREFIX, nowMs).catch((err: unknown) => {
    throw new StoreError('cannot list the cached discovery answers', { cause: err });
  });
  return items.flatMap((item) => {
    const cached = fromItem(item);
    return cached && cached.usedUntil > nowMs ? [cached] : [];
  });
}

/**
 * Stores an answer unless a newer one is already stored (two workers resolving at once both write;
 * the later resolution wins, whichever write lands last). False when a newer answer was kept.
 */
export async function writeCachedDiscovery(
  table: Table,
  cached: CachedDiscovery,
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

function fromItem(item: Item): CachedDiscovery | undefined {
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
      discovery: JSON.parse(answer) as Discovery,
      resolvedAt,
      validUntil,
      refreshAt,
      usedUntil: readNumber(item, 'usedUntil') ?? 0,
    };
  } catch {
    return undefined;
  }
}
