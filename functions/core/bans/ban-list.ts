import type { Ban, BanKind } from '../../contract/abuse.js';
import type { Table } from '../store/index.js';
import { deleteBan, expiresAtFor, listBans, putBan } from '../store/index.js';
import { canonicalBanValue } from './ban-value.js';

/** The live bans, for every edge worker's poll and `ftpx bans list`. */
export function activeBans(table: Table, nowMs: number): Promise<Ban[]> {
  return listBans(table, nowMs);
}

/**
 * Adds (or replaces) a ban, for `durationMs` or until removed. A host ban may name a network
 * (`203.0.113.0/24`, `2001:db8::/48`); one that does not parse throws InvalidBanError.
 */
export async function addBan(
  table: Table,
  ban: { kind: BanKind; value: string; reason: string; message?: string; durationMs?: number },
  nowMs: number,
): Promise<Ban> {
  const stored: Ban = {
    kind: ban.kind,
    value: canonicalBanValue(ban.kind, ban.value),
    reason: ban.reason,
    createdAt: nowMs,
    ...(ban.message !== undefined ? { message: ban.message } : {}),
    ...(ban.durationMs !== undefined ? { expiresAt: expiresAtFor(nowMs, ban.durationMs) } : {}),
  };
  await putBan(table, stored);
  return stored;
}

/** Lifts a ban; false when there was none (a network is named as it was banned, in any spelling). */
export function removeBan(table: Table, kind: BanKind, value: string): Promise<boolean> {
  return deleteBan(table, kind, canonicalBanValue(kind, value));
}
