import { randomBytes } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { TicketKey } from '../../contract/tls-cache.js';
import { type Item, keyOf, n, readNumber } from '../store/attributes.js';
import { isConditionFailure } from '../store/conditional.js';
import { EXPIRES_AT } from '../store/expiry.js';
import { tlsCacheKeys } from '../store/keys.js';
import { StoreError } from '../store/store-error.js';
import type { Table } from '../store/table.js';

/** What tls.Server.setTicketKeys takes: 16 bytes key name, 16 bytes HMAC secret, 16 bytes AES key. */
export const TICKET_KEY_BYTES = 48;

/**
 * Session ticket keys shared by every edge worker. Time is cut into periods of `rotateEveryS`; the
 * key of period p is current from p × rotateEvery to (p + 1) × rotateEvery. Whichever worker asks
 * first creates a period's key (random, conditional put: the first writer wins, the others read
 * it back), so all workers encrypt with the same key and switch at the same instant. Answers carry
 * the next period's key too, so a worker can switch on time without asking again. A key item is
 * kept until its period ended plus the ticket lifetime.
 */
export async function ticketKeys(
  table: Table,
  options: { rotateEveryS: number; lifetimeS: number },
  nowMs: number,
): Promise<{ current: TicketKey; next: TicketKey }> {
  const periodMs = options.rotateEveryS * 1000;
  const epoch = Math.floor(nowMs / periodMs);
  const [current, next] = await Promise.all([
    periodKey(table, epoch, periodMs, options.lifetimeS),
    periodKey(table, epoch + 1, periodMs, options.lifetimeS),
  ]);
  return { current, next };
}

async function periodKey(
  table: Table,
  epoch: number,
  periodMs: number,
  lifetimeS: number,
): Promise<TicketKey> {
  const activeFrom = epoch * periodMs;
  const activeUntil = activeFrom + periodMs;
  const key = tlsCacheKeys.ticketKey(epoch);
  const existing = await read(table, key);
  if (existing) return view(existing, epoch, activeFrom, activeUntil);
  const secret = randomBytes(TICKET_KEY_BYTES);
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...keyOf(key),
          key: { B: secret },
          activeFrom: n(activeFrom),
          activeUntil: n(activeUntil),
          [EXPIRES_AT]: n(Math.ceil(activeUntil / 1000) + lifetimeS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { epoch, key: secret.toString('base64'), activeFrom, activeUntil };
  } catch (err) {
    if (!isConditionFailure(err))
      throw new StoreError(`cannot create the ticket key of period ${epoch}`, { cause: err });
  }
  const winner = await read(table, key);
  if (!winner) throw new StoreError(`the ticket key of period ${epoch} vanished after it was created`);
  return view(winner, epoch, activeFrom, activeUntil);
}

async function read(table: Table, key: { pk: string; sk: string }): Promise<Item | undefined> {
  try {
    const result = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: keyOf(key), ConsistentRead: true }),
    );
    return result.Item;
  } catch (err) {
    throw new StoreError('cannot read a ticket key', { cause: err });
  }
}

function view(item: Item, epoch: number, activeFrom: number, activeUntil: number): TicketKey {
  const bytes = item.key && 'B' in item.key ? item.key.B : undefined;
  if (!bytes || bytes.length !== TICKET_KEY_BYTES) {
    throw new StoreError(`the ticket key of period ${epoch} is malformed`);
  }
  return {
    epoch,
    key: Buffer.from(bytes).toString('base64'),
    activeFrom: readNumber(item, 'activeFrom') ?? activeFrom,
    activeUntil: readNumber(item, 'activeUntil') ?? activeUntil,
  };
}
