import { type Item, keyOf, n, readNumber } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, epochSeconds } from './expiry.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

export interface CounterUpdate {
  /** The counter attribute. */
  counter: string;
  delta: number;
  /** Other attributes to set in the same write. */
  set: Item;
  nowMs: number;
  /** The item's new `expiresAt` (epoch seconds). */
  expiresAt: number;
}

/**
 * Adds to a counter that lives only until its item expires, and returns the new value. A live item
 * gets an atomic `ADD`; a missing or expired one restarts from `delta` (an expired count is gone,
 * even if the item is still stored). Each write's condition pins which case it is, so a concurrent
 * writer makes it fail and the loop tries the other case: never a read-modify-write.
 */
export async function addToExpiringCounter(
  table: Table,
  key: { pk: string; sk: string },
  update: CounterUpdate,
): Promise<number> {
  const setNames = Object.keys(update.set);
  const names: Record<string, string> = { '#counter': update.counter, '#exp': EXPIRES_AT };
  const values: Item = {
    ':delta': n(update.delta),
    ':exp': n(update.expiresAt),
    ':now': n(epochSeconds(update.nowMs)),
  };
  const assignments = ['#exp = :exp'];
  setNames.forEach((name, i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = update.set[name] as Item[string];
    assignments.push(`#a${i} = :a${i}`);
  });
  const attempts: { expression: string; condition: string }[] = [
    { expression: `ADD #counter :delta SET ${assignments.join(', ')}`, condition: '#exp > :now' },
    {
      expression: `SET #counter = :delta, ${assignments.join(', ')}`,
      condition: 'attribute_not_exists(pk) OR #exp <= :now',
    },
  ];
  for (let round = 0; round < 10; round++) {
    for (const attempt of attempts) {
      try {
        const result = await table.client.send(
          new UpdateItemCommand({
            TableName: table.name,
            Key: keyOf(key),
            UpdateExpression: attempt.expression,
            ConditionExpression: attempt.condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const value = readNumber(result.Attributes, update.counter);
        if (value === undefined)
          throw new StoreError(`${update.counter} of ${key.pk} ${key.sk} is not a number`);
        return value;
      } catch (err) {
        if (!isConditionFailure(err)) {
          if (err instanceof StoreError) throw err;
          throw new StoreError(`cannot update ${update.counter} of ${key.pk} ${key.sk}`, { cause: err });
        }
      }
    }
  }
  throw new StoreError(`${update.counter} of ${key.pk} ${key.sk} kept changing under concurrent writers`);
}
