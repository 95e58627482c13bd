import { type Item, keyOf, n, readNumber } from '../attributes.js';
import { isConditionFailure } from '../conditional.js';
import { GetItemCommand, PutItemCommand } from '../dynamodb-sdk.js';
import { EXPIRES_AT } from '../expiry.js';
import { tlsCacheKeys } from '../keys.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';

/** A session ticket key as stored, one item per rotation period (tls-cache/ticket-keys.ts rotates them). */
export interface StoredTicketKey {
  secret: Uint8Array;
  activeFrom?: number;
  activeUntil?: number;
}

export async function readTicketKey(table: Table, epoch: number): Promise<StoredTicketKey | undefined> {
  let item: Item | undefined;
  try {
    const result = await table.client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: keyOf(tlsCacheKeys.ticketKey(epoch)),
        ConsistentRead: true,
      }),
    );
    item = result.Item;
  } catch (err) {
    throw new StoreError('cannot read a ticket key', { cause: err });
  }
  if (!item) return undefined;
  const secret = item.key && 'B' in item.key ? item.key.B : undefined;
  if (!secret) throw new StoreError(`the ticket key of period ${epoch} is malformed`);
  const activeFrom = readNumber(item, 'activeFrom');
  const activeUntil = readNumber(item, 'activeUntil');
  return {
    secret,
    ...(activeFrom !== undefined ? { activeFrom } : {}),
    ...(activeUntil !== undefined ? { activeUntil } : {}),
  };
}

/**
 * Creates the key of a period unless one exists (conditional put: the first writer wins). False when
 * another writer was first; the item expires at `expiresAtS` (epoch seconds).
 */
export async function createTicketKey(
  table: Table,
  epoch: number,
  key: { secret: Uint8Array; activeFrom: number; activeUntil: number },
  expiresAtS: number,
): Promise<boolean> {
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...keyOf(tlsCacheKeys.ticketKey(epoch)),
          key: { B: key.secret },
          activeFrom: n(key.activeFrom),
          activeUntil: n(key.activeUntil),
          [EXPIRES_AT]: n(expiresAtS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot create the ticket key of period ${epoch}`, { cause: err });
  }
}
