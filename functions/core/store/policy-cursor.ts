import { UpdateItemCommand } from './dynamodb-sdk.js';
import { keys } from './keys.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * Atomically advances a pool's cursor and returns the new value (1 on first use). An `ADD` update is
 * a single conditional-free atomic increment on DynamoDB, so any number of edge workers and function
 * instances sharing the table each get a distinct value: no read-modify-write race.
 */
export async function advanceCursor(table: Table, pool: string, policy: string): Promise<number> {
  const key = keys.policyCursor(pool, policy);
  try {
    const result = await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'ADD #next :one SET #updatedAt = :now',
        ExpressionAttributeNames: { '#next': 'next', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(Date.now()) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const value = Number(result.Attributes?.next?.N);
    if (!Number.isSafeInteger(value)) throw new StoreError(`cursor of pool ${pool} is not a number`);
    return value;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot advance the ${policy} cursor of pool ${pool}`, { cause: err });
  }
}
