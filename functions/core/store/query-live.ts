import { type Item, n, readNumber, s } from './attributes.js';
import { QueryCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, epochSeconds, isLive } from './expiry.js';
import type { Table } from './table.js';

/**
 * Every unexpired item of one partition whose sort key starts with `prefix`, all pages, strongly
 * consistent (a selection must see the connect an edge worker reported just before). Expired items
 * are filtered in the store and checked again here.
 */
export async function queryLive(table: Table, pk: string, prefix: string, nowMs: number): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({
        TableName: table.name,
        // DynamoDB refuses an empty string in a key condition: no prefix means the whole partition.
        KeyConditionExpression: prefix === '' ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'attribute_not_exists(#exp) OR #exp > :now',
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':pk': s(pk),
          ':now': n(epochSeconds(nowMs)),
          ...(prefix === '' ? {} : { ':prefix': s(prefix) }),
        },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (isLive(readNumber(item, EXPIRES_AT), nowMs)) items.push(item);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
