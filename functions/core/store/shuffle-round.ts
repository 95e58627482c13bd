import { type Item, keyOf, n, readNumber, readStringSet } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { GetItemCommand, UpdateItemCommand } from './dynamodb-sdk.js';
import { keys } from './keys.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * The Shuffle round of a pool: `remaining`, a string set of the backend ids not yet used in this
 * round (absent when used up: DynamoDB sets cannot be empty), and `round`, a number that grows by
 * one with every refill. Within a round the set only shrinks, so "nothing left" stays true until
 * someone starts the next round.
 */
export interface ShuffleRound {
  round: number;
  remaining: Set<string>;
}

export async function readShuffleRound(table: Table, pool: string): Promise<ShuffleRound | undefined> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: keyOf(keys.shuffleRound(pool)),
        ConsistentRead: true,
      }),
    );
    if (!item) return undefined;
    return {
      round: readNumber(item, 'round') ?? 0,
      remaining: new Set(readStringSet(item, 'remaining') ?? []),
    };
  } catch (err) {
    throw new StoreError(`cannot read the shuffle round of pool ${pool}`, { cause: err });
  }
}

/**
 * Takes one backend out of the round: `DELETE` it from the set on condition that the set still
 * contains it. False when another caller took it first.
 */
export async function takeFromRound(table: Table, pool: string, id: string, nowMs: number): Promise<boolean> {
  return conditionalUpdate(table, pool, {
    UpdateExpression: 'DELETE remaining :ids SET updatedAt = :nowMs',
    ConditionExpression: 'contains(remaining, :id)',
    ExpressionAttributeValues: { ':ids': { SS: [id] }, ':id': { S: id }, ':nowMs': n(nowMs) },
  });
}

/**
 * Starts the round after `seen` (undefined: there was no round item) with `remaining` (the ids of
 * the new round minus the one the caller takes), on condition that nobody started it first.
 */
export async function startNextRound(
  table: Table,
  pool: string,
  seen: number | undefined,
  remaining: readonly string[],
  nowMs: number,
): Promise<boolean> {
  const values: Item = { ':next': n((seen ?? 0) + 1), ':nowMs': n(nowMs) };
  if (seen !== undefined) values[':seen'] = n(seen);
  if (remaining.length > 0) values[':remaining'] = { SS: [...remaining] };
  return conditionalUpdate(table, pool, {
    UpdateExpression:
      remaining.length > 0
        ? 'SET #round = :next, remaining = :remaining, updatedAt = :nowMs'
        : 'SET #round = :next, updatedAt = :nowMs REMOVE remaining',
    ConditionExpression: seen === undefined ? 'attribute_not_exists(pk)' : '#round = :seen',
    ExpressionAttributeNames: { '#round': 'round' },
    ExpressionAttributeValues: values,
  });
}

async function conditionalUpdate(
  table: Table,
  pool: string,
  update: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues: Item;
  },
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({ TableName: table.name, Key: keyOf(keys.shuffleRound(pool)), ...update }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot update the shuffle round of pool ${pool}`, { cause: err });
  }
}
