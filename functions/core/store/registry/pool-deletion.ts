import { marshall } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from '../conditional.js';
import { DeleteItemCommand, UpdateItemCommand } from '../dynamodb-sdk.js';
import { registryKeys } from '../keys.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';

/**
 * The conditional writes of a pool deletion (registry/pools.ts `deletePool` says in which order and
 * why): the deletion mark on the pool item, and taking it away or deleting the pool while the mark
 * is still ours.
 */

/** Sets the deletion mark; false when the pool is missing or (with `ifMatch`) at another version. */
export async function markPoolDeleting(
  table: Table,
  name: string,
  mark: string,
  ifMatch: number | undefined,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: marshall(registryKeys.pool(name)),
        UpdateExpression: 'SET #deleting = :mark',
        ConditionExpression:
          ifMatch === undefined ? 'attribute_exists(pk)' : 'attribute_exists(pk) AND #version = :version',
        ...(ifMatch === undefined
          ? {
              ExpressionAttributeNames: { '#deleting': 'deleting' },
              ExpressionAttributeValues: { ':mark': { S: mark } },
            }
          : {
              ExpressionAttributeNames: { '#deleting': 'deleting', '#version': 'version' },
              ExpressionAttributeValues: { ':mark': { S: mark }, ':version': { N: String(ifMatch) } },
            }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot mark pool ${name} for deletion`, { cause: err });
  }
}

/** Takes the mark away again if it is still ours. */
export function unmarkPoolDeleting(table: Table, name: string, mark: string): Promise<boolean> {
  return ifMarked(table, name, mark, 'REMOVE #deleting');
}

/** Deletes the pool item if the mark is still ours. */
export function deleteMarkedPool(table: Table, name: string, mark: string): Promise<boolean> {
  return ifMarked(table, name, mark, undefined);
}

/** With `update` undefined: delete the item if the mark is ours; else apply `update` if it is. */
async function ifMarked(
  table: Table,
  name: string,
  mark: string,
  update: string | undefined,
): Promise<boolean> {
  const key = registryKeys.pool(name);
  const common = {
    TableName: table.name,
    Key: marshall(key),
    ConditionExpression: '#deleting = :mark',
    ExpressionAttributeNames: { '#deleting': 'deleting' },
    ExpressionAttributeValues: { ':mark': { S: mark } },
  };
  try {
    if (update === undefined) {
      await table.client.send(new DeleteItemCommand(common));
    } else {
      await table.client.send(new UpdateItemCommand({ ...common, UpdateExpression: update }));
    }
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot finish deleting pool item ${key.sk}`, { cause: err });
  }
}
