import type { Ban, BanKind } from '../../contract/abuse.js';
import type { Table } from '../store/index.js';
import { deleteBan, expiresAtFor, listBans, putBan } from '../store/index.js';

/** The live bans, for every edge worker's poll and `ftpx bans list`. */
export function activeBans(table: Table, nowMs: number): Promise<Ban[]> {
  return listBans(table, nowMs);
}

/** Adds (or replaces) a ban, for `durationMs` or until removed. */
export async function addBan(
  table: Table,
  ban: { kind: BanKind; value: string; reason: string; message?: string; durationMs?: number },
  nowMs: number,
): Promise<Ban> {
  const stored: Ban = {
    kind: ban.kind,
    value: ban.kind === 'host' ? ban.value.toLowerCase() : ban.value,
    reason: ban.reason,
    createdAt: nowMs,
    ...(ban.message !== undefined ? { message: ban.message } : {}),
    ...(ban.durationMs !== undefined ? { expiresAt: expiresAtFor(nowMs, ban.durationMs) } : {}),
  };
  await putBan(table, stored);
  return stored;
}

/** Lifts a ban; false when there was none. */
export function removeBan(table: Table, kind: BanKind, value: string): Promise<boolean> {
  return deleteBan(table, kind, kind === 'host' ? value.toLowerCase() : value);
}
