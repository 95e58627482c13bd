import { marshall } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from '../conditional.js';
import { UpdateItemCommand } from '../dynamodb-sdk.js';
import { registryKeys } from '../keys.js';
import type { Table } from '../table.js';

/**
 * Records a use of an API token at `nowMs`, unless a use at or after `staleBeforeMs` is already
 * recorded or the token is gone (conditional write: concurrent uses write once).
 */
export async function recordTokenUse(
  table: Table,
  id: string,
  nowMs: number,
  staleBeforeMs: number,
): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: marshall(registryKeys.apiToken(id)),
        UpdateExpression: 'SET lastUsedAt = :now',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :stale)',
        ExpressionAttributeValues: {
          ':now': { N: String(nowMs) },
          ':stale': { N: String(staleBeforeMs) },
        },
      }),
    );
  } catch (err) {
    // Someone recorded a use just now, or the token was deleted meanwhile: nothing to do.
    if (!isConditionFailure(err)) throw err;
  }
}
