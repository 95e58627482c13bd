import { type Item, keyOf, n, readNumber, readString, s } from './attributes.js';
import { DeleteItemCommand, PutItemCommand } from './dynamodb-sdk.js';
import { addToExpiringCounter } from './expiring-counter.js';
import { EXPIRES_AT, expiresAtFor } from './expiry.js';
import { BANS_PK, keys } from './keys.js';
import { queryLive } from './query-live.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/** One stored ban (mod_ban's ban list entry, BanTable in the store). */
export interface StoredBan {
  kind: 'host' | 'user' | 'class';
  value: string;
  reason: string;
  /** The rule's own message (BanOnEvent ... "message"), else BanMessage applies. */
  message?: string;
  createdAt: number;
  /** Epoch seconds; absent: until removed. */
  expiresAt?: number;
}

/** Adds or replaces a ban. */
export async function putBan(table: Table, ban: StoredBan): Promise<void> {
  const item: Item = {
    ...keyOf(keys.ban(ban.kind, ban.value)),
    kind: s(ban.kind),
    value: s(ban.value),
    reason: s(ban.reason),
    createdAt: n(ban.createdAt),
    ...(ban.message !== undefined ? { message: s(ban.message) } : {}),
    ...(ban.expiresAt !== undefined ? { [EXPIRES_AT]: n(ban.expiresAt) } : {}),
  };
  try {
    await table.client.send(new PutItemCommand({ TableName: table.name, Item: item }));
  } catch (err) {
    throw new StoreError(`cannot store the ban of ${ban.kind} ${ban.value}`, { cause: err });
  }
}

/** Removes a ban; true when there was one. */
export async function deleteBan(table: Table, kind: StoredBan['kind'], value: string): Promise<boolean> {
  try {
    const result = await table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: keyOf(keys.ban(kind, value)),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return result.Attributes !== undefined;
  } catch (err) {
    throw new StoreError(`cannot remove the ban of ${kind} ${value}`, { cause: err });
  }
}

/** Every ban alive at `nowMs` (expired ones are filtered, whether or not TTL deleted them yet). */
export async function listBans(table: Table, nowMs: number): Promise<StoredBan[]> {
  try {
    const items = await queryLive(table, BANS_PK, '', nowMs);
    const bans: StoredBan[] = [];
    for (const item of items) {
      const kind = readString(item, 'kind');
      const value = readString(item, 'value');
      if ((kind !== 'host' && kind !== 'user' && kind !== 'class') || value === undefined) continue;
      const message = readString(item, 'message');
      const expiresAt = readNumber(item, EXPIRES_AT);
      bans.push({
        kind,
        value,
        reason: readString(item, 'reason') ?? '',
        createdAt: readNumber(item, 'createdAt') ?? 0,
        ...(message !== undefined ? { message } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      });
    }
    return bans;
  } catch (err) {
    throw new StoreError('cannot read the ban list', { cause: err });
  }
}

/** Counts one BanOnEvent occurrence; the count lives `windowMs` after the latest one. */
export async function countBanEvent(
  table: Table,
  event: { event: string; kind: string; value: string },
  nowMs: number,
  windowMs: number,
): Promise<number> {
  return addToExpiringCounter(table, keys.banEvent(event.event, event.kind, event.value), {
    counter: 'count',
    delta: 1,
    set: { updatedAt: n(nowMs) },
    nowMs,
    expiresAt: expiresAtFor(nowMs, windowMs),
  });
}
