import { type Item, n } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { DeleteItemCommand, ScanCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, epochSeconds } from './expiry.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

export interface SweepResult {
  /** Expired items found by the scan. */
  found: number;
  /** Items deleted; fewer than found when an item was extended between the scan and the delete. */
  deleted: number;
}

/**
 * Deletes every item whose `expiresAt` has passed at `nowMs`: what DynamoDB's TTL does in AWS, for
 * the embedded store (dynalite has no TTL). Scans the table (all pages) for expired items and
 * deletes each on condition that it is still expired, so an item a worker extended after the scan
 * survives. Readers never depend on it: they filter on `expiresAt` anyway; it only bounds the size.
 */
export async function sweepExpired(table: Table, nowMs: number): Promise<SweepResult> {
  const now = n(epochSeconds(nowMs));
  const result: SweepResult = { found: 0, deleted: 0 };
  try {
    let startKey: Item | undefined;
    do {
      const page = await table.client.send(
        new ScanCommand({
          TableName: table.name,
          FilterExpression: '#exp <= :now',
          ProjectionExpression: 'pk, sk',
          ExpressionAttributeNames: { '#exp': EXPIRES_AT },
          ExpressionAttributeValues: { ':now': now },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        result.found += 1;
        if (!item.pk || !item.sk) continue;
        try {
          await table.client.send(
            new DeleteItemCommand({
              TableName: table.name,
              Key: { pk: item.pk, sk: item.sk },
              ConditionExpression: '#exp <= :now',
              ExpressionAttributeNames: { '#exp': EXPIRES_AT },
              ExpressionAttributeValues: { ':now': now },
            }),
          );
          result.deleted += 1;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return result;
  } catch (err) {
    throw new StoreError(`cannot sweep expired items of table ${table.name}`, { cause: err });
  }
}
