import { keyOf, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { GetItemCommand, PutItemCommand } from './dynamodb-sdk.js';
import { keys } from './keys.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/** A backend's SSH host key as stored (ProxySFTPVerifyServer). */
export interface StoredSshHostKey {
  /** Base64 of the key in SSH wire form. */
  key: string;
  pinned: boolean;
}

export async function readSshHostKey(
  table: Table,
  pool: string,
  backend: string,
): Promise<StoredSshHostKey | undefined> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: keyOf(keys.sshHostKey(pool, backend)),
        ConsistentRead: true,
      }),
    );
    const key = readString(item, 'key');
    if (key === undefined) return undefined;
    return { key, pinned: item?.pinned?.BOOL === true };
  } catch (err) {
    throw new StoreError(`cannot read the SSH host key of ${backend} in pool ${pool}`, { cause: err });
  }
}

/**
 * Stores `key` for the backend; returns what is stored afterwards. Only an operator (`pinned`)
 * replaces a pinned key. With `ifAbsent` (trust on first use) nothing is replaced at all: when two
 * workers record a first key at once, the first write wins and the other gets it back to compare.
 */
export async function writeSshHostKey(
  table: Table,
  pool: string,
  backend: string,
  key: string,
  options: { pinned?: boolean; ifAbsent?: boolean; nowMs?: number } = {},
): Promise<StoredSshHostKey> {
  const pinned = options.pinned ?? false;
  const condition = pinned
    ? {}
    : options.ifAbsent
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : {
          ConditionExpression: 'attribute_not_exists(pinned) OR pinned = :false',
          ExpressionAttributeValues: { ':false': { BOOL: false } },
        };
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...keyOf(keys.sshHostKey(pool, backend)),
          backend: s(backend),
          key: s(key),
          pinned: { BOOL: pinned },
          updatedAt: s(new Date(options.nowMs ?? Date.now()).toISOString()),
        },
        ...condition,
      }),
    );
    return { key, pinned };
  } catch (err) {
    if (isConditionFailure(err)) {
      const stored = await readSshHostKey(table, pool, backend);
      if (stored) return stored;
    }
    throw new StoreError(`cannot store the SSH host key of ${backend} in pool ${pool}`, { cause: err });
  }
}
