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

/** Values reserved by an earlier ADD and not handed out yet, per client and cursor item. */
interface Reserved {
  next: number;
  last: number;
}

/** Clients whose cursors reserve blocks (`reserveCursorBlocks`): the block size, and when it applies. */
const blockSizes = new WeakMap<DynamoDBClient, { block: number; exclusive: () => boolean }>();
const reservations = new WeakMap<DynamoDBClient, Map<string, Reserved>>();

/**
 * Makes every cursor advanced through `client` reserve `block` values per ADD and hand them out
 * locally, in order: one store write per `block` logins instead of one per login or burst. Only
 * while `exclusive()` says this client is its cursors' one writer (the embedded store, while no
 * other process has used it): another writer's values would interleave with the reserved blocks and
 * its logins would go through the rotation in runs. Once `exclusive()` turns false, what is left of
 * a block is dropped and every advance is one exact ADD again. Values reserved and not used when the
 * process ends are skipped, so after a restart the rotation goes on from a later backend.
 */
export function reserveCursorBlocks(client: DynamoDBClient, block: number, exclusive: () => boolean): void {
  if (!Number.isSafeInteger(block) || block < 1)
    throw new RangeError(`block must be a positive integer: ${block}`);
  blockSizes.set(client, { block, exclusive });
}

/**
 * Atomically advances a pool's cursor and returns the new value (1 on first use). An `ADD` update is
 * a single conditional-free atomic increment on DynamoDB, so any number of edge workers and function
 * instances sharing the table each get a distinct value: no read-modify-write race.
 *
 * One ADD per cursor is in flight per client: advances asked for meanwhile wait for it and then share
 * one `ADD n`, which reserves n consecutive values, handed out in the order they were asked for.
 * Every caller still gets its own value and the rotation stays exact across processes; under a burst
 * of logins the store sees one write per batch instead of one per login (bench/README.md, "Login
 * path"), for at most one more round trip of waiting. A client that is its cursors' one writer
 * reserves larger blocks (`reserveCursorBlocks`).
 */
export function advanceCursor(table: Table, pool: string, policy: string): Promise<number> {
  const key = keys.policyCursor(pool, policy);
  const id = `${table.name}\u0000${key.pk}\u0000${key.sk}`;
  const reserved = reservations.get(table.client)?.get(id);
  if (
    reserved &&
    reserved.next <= reserved.last &&
    !queues.get(table.client)?.has(id) &&
    blockSizes.get(table.client)?.exclusive()
  ) {
    return Promise.resolve(reserved.next++);
  }
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
          const values = await takeValues(table, pool, policy, key, id, batch.length);
          for (const [index, waiter] of batch.entries()) waiter.resolve(values[index] as number);
        } catch (err) {
          for (const waiter of batch) waiter.reject(err);
        }
      }
      cursors.delete(id);
    })();
  });
}

/** `count` values in rotation order: what is left of this client's block first, then a new ADD. */
async function takeValues(
  table: Table,
  pool: string,
  policy: string,
  key: { pk: string; sk: string },
  id: string,
  count: number,
): Promise<number[]> {
  const blocks = blockSizes.get(table.client);
  if (blocks === undefined || !blocks.exclusive()) {
    reservations.get(table.client)?.delete(id);
    const last = await addToCursor(table, pool, policy, key, count);
    return Array.from({ length: count }, (_, index) => last - count + 1 + index);
  }
  let byCursor = reservations.get(table.client);
  if (!byCursor) {
    byCursor = new Map();
    reservations.set(table.client, byCursor);
  }
  const values: number[] = [];
  let reserved = byCursor.get(id);
  while (values.length < count) {
    if (!reserved || reserved.next > reserved.last) {
      const size = Math.max(blocks.block, count - values.length);
      const last = await addToCursor(table, pool, policy, key, size);
      reserved = { next: last - size + 1, last };
      byCursor.set(id, reserved);
    }
    values.push(reserved.next++);
  }
  return values;
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
