/**
 * Expiry in the table: items that expire carry `expiresAt`, in epoch seconds (the unit DynamoDB's
 * TTL attribute uses). Neither the emulators nor DynamoDB delete expired items on time, so every
 * reader treats an item as gone once `expiresAt <= nowSeconds` and every conditional write that
 * depends on an item being alive says so in its condition.
 */
export const EXPIRES_AT = 'expiresAt';

/** The current time in whole epoch seconds, as compared with `expiresAt`. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** The `expiresAt` of an item written at `nowMs` that should live `ttlMs`, rounded up to a second. */
export function expiresAtFor(nowMs: number, ttlMs: number): number {
  return Math.ceil((nowMs + ttlMs) / 1000);
}

/** Whether an item with this `expiresAt` is still alive at `nowMs`. A missing value never expires. */
export function isLive(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt === undefined || expiresAt > epochSeconds(nowMs);
}
