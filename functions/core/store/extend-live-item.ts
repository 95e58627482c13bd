import { keyOf, n } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, epochSeconds, expiresAtFor } from './expiry.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * A heartbeat for a per-worker count item (a LeastConns lease, a connection-limit slot): moves a live
 * item's expiry forward. An expired item stays expired (its count already dropped out of every sum and
 * is not brought back); the answer is false then. `what` names the item in the error.
 */
export async function extendLiveItem(
  table: Table,
  key: { pk: string; sk: string },
  nowMs: number,
  ttlMs: number,
  what: string,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(key),
        UpdateExpression: 'SET #exp = :exp, updatedAt = :nowMs',
        ConditionExpression: '#exp > :now',
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':exp': n(expiresAtFor(nowMs, ttlMs)),
          ':now': n(epochSeconds(nowMs)),
          ':nowMs': n(nowMs),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot extend ${what}`, { cause: err });
  }
}
