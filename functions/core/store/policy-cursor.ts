import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { keys } from './keys.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

interface Waiter {
  resolve(value: number): void;
  reject(err: unknown): void;
}

/** Advances queued behind the one in flight, per client and cursor item. */
const queues = new WeakMap<DynamoDBClient, Map<string, Waiter[]>>();

/**
 * Atomically advances a pool's cursor and returns the new value (1 on first use). An `ADD` update is
 * a single conditional-free atomic increment on DynamoDB, so any number of edge workers and function
 * instances sharing the table each get a distinct value: no read-modify-write race.
 *
 * One ADD per cursor is in flight per client: advances asked for meanwhile wait for it and then share
 * one `ADD n`, which reserves n consecutive values, handed out in the order they were asked for.
 * Every caller still gets its own value and the rotation stays exact across processes; under a burst
 * of logins the store sees one write per batch instead of one per login (bench/README.md, "Login
 * path"), for at most one more round trip of waiting.
 */
export function advanceCursor(table: Table, pool: string, policy: string): Promise<number> {
  const key = keys.policyCursor(pool, policy);
  const id = `${table.name}\u0000${key.pk}\u0000${key.sk}`;
  let byCursor = queues.get(table.client);
  if (!byCursor) {
    byCursor = new Map();
    queues.set(table.client, byCursor);
  }
  const cursors = byCursor;
  return new Promise<number>((resolve, reject) => {
    const queued = cursors.get(id);
    if (queued) {
      queued.push({ resolve, reject });
      return;
    }
    const waiting: Waiter[] = [{ resolve, reject }];
    cursors.set(id, waiting);
    void (async () => {
      while (waiting.length > 0) {
        const batch = waiting.splice(0);
        try {
          const last = await addToCursor(table, pool, policy, key, batch.length);
          const first = last - batch.length + 1;
          for (const [index, waiter] of batch.entries()) waiter.resolve(first + index);
        } catch (err) {
          for (const waiter of batch) waiter.reject(err);
        }
      }
      cursors.delete(id);
    })();
  });
}

async function addToCursor(
  table: Table,
  pool: string,
  policy: string,
  key: { pk: string; sk: string },
  count: number,
): Promise<number> {
  try {
    const result = await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'ADD #next :count SET #updatedAt = :now',
        ExpressionAttributeNames: { '#next': 'next', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':count': { N: String(count) }, ':now': { N: String(Date.now()) } },
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
