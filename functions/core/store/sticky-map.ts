import { keyOf, n, readNumber, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, epochSeconds, isLive } from './expiry.js';
import { keys } from './keys.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * Sticky mappings (PerUser, PerGroup, PerHost): which backend a user, group or client address goes
 * to. Written only conditionally: first writer wins on creation, and a replacement names the value
 * it replaces, so concurrent edge workers always converge on one stored backend.
 */
export interface StickyRef {
  pool: string;
  policy: string;
  stickyKey: string;
}

export interface StickyMapping {
  backend: string;
  expiresAt: number;
}

/** The live mapping, if any (an expired one reads as absent). */
export async function readStickyMapping(
  table: Table,
  ref: StickyRef,
  nowMs: number,
): Promise<StickyMapping | undefined> {
  try {
    const { Item: item } = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(stickyKey(ref)), ConsistentRead: true }),
    );
    const backend = readString(item, 'backend');
    const expiresAt = readNumber(item, EXPIRES_AT);
    if (backend === undefined || expiresAt === undefined || !isLive(expiresAt, nowMs)) return undefined;
    return { backend, expiresAt };
  } catch (err) {
    throw new StoreError(`cannot read the ${ref.policy} mapping in pool ${ref.pool}`, { cause: err });
  }
}

/** Creates the mapping unless a live one exists. False when another writer was first. */
export async function createStickyMapping(
  table: Table,
  ref: StickyRef,
  backend: string,
  nowMs: number,
  expiresAt: number,
): Promise<boolean> {
  return conditional(ref, async () => {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...keyOf(stickyKey(ref)),
          backend: s(backend),
          stickyKey: s(ref.stickyKey),
          policy: s(ref.policy),
          pool: s(ref.pool),
          updatedAt: n(nowMs),
          [EXPIRES_AT]: n(expiresAt),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #exp <= :now',
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: { ':now': n(epochSeconds(nowMs)) },
      }),
    );
  });
}

/**
 * Points the mapping at `backend` (with a new expiry) only if it still names `previous`; also used
 * with `backend === previous` to extend a mapping's life. False when it changed meanwhile.
 */
export async function replaceStickyMapping(
  table: Table,
  ref: StickyRef,
  previous: string,
  backend: string,
  nowMs: number,
  expiresAt: number,
): Promise<boolean> {
  return conditional(ref, async () => {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(stickyKey(ref)),
        UpdateExpression: 'SET backend = :backend, updatedAt = :nowMs, #exp = :exp',
        ConditionExpression: 'backend = :previous',
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: {
          ':backend': s(backend),
          ':previous': s(previous),
          ':nowMs': n(nowMs),
          ':exp': n(expiresAt),
        },
      }),
    );
  });
}

function stickyKey(ref: StickyRef) {
  return keys.stickyMapping(ref.pool, ref.policy, ref.stickyKey);
}

async function conditional(ref: StickyRef, write: () => Promise<void>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot write the ${ref.policy} mapping in pool ${ref.pool}`, { cause: err });
  }
}
