import { keyOf, n, readString, s } from '../attributes.js';
import { isConditionFailure } from '../conditional.js';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '../dynamodb-sdk.js';
import { poolPk, REGISTRY_PREFIX } from '../keys.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';
import { notFound } from './registry-error.js';

/**
 * A pool's Route 53 publication settings as stored: one item in the pool's partition under `REG#`
 * (so a pool with a publication cannot be deleted before it), holding the settings as JSON.
 * registry/publication-config.ts owns their schema.
 */
const PUBLICATION_SK = `${REGISTRY_PREFIX}PUBLICATION`;
const key = (pool: string) => ({ pk: poolPk(pool), sk: PUBLICATION_SK });

/** The stored settings, parsed JSON but not validated; undefined when the pool has none. */
export async function readPublicationItem(table: Table, pool: string): Promise<unknown> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(key(pool)), ConsistentRead: true }),
    );
    const text = readString(item, 'config');
    return text === undefined ? undefined : JSON.parse(text);
  } catch (err) {
    throw new StoreError(`cannot read the publication of pool ${pool}`, { cause: err });
  }
}

export async function writePublicationItem(
  table: Table,
  pool: string,
  config: unknown,
  nowMs: number,
): Promise<void> {
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: { ...keyOf(key(pool)), config: s(JSON.stringify(config)), updatedAt: n(nowMs) },
      }),
    );
  } catch (err) {
    throw new StoreError(`cannot store the publication of pool ${pool}`, { cause: err });
  }
}

/** not_found when the pool has no publication. */
export async function deletePublicationItem(table: Table, pool: string): Promise<void> {
  try {
    await table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: keyOf(key(pool)),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw notFound(`the publication of pool "${pool}"`);
    throw new StoreError(`cannot delete the publication of pool ${pool}`, { cause: err });
  }
}
