import type { TlsCacheCleared, TlsCacheEntry, TlsCacheInfo, TlsCacheKind } from '../../contract/tls-cache.js';
import type { Table } from '../store/index.js';
import { clearEntries, deleteStats, listEntries, readNumber, readStats, readString } from '../store/index.js';

/**
 * The operator's commands on a shared cache, as mod_tls's `ftpdctl tls sesscache|ocspcache
 * info|clear|remove`: `info` reads the statistics (and with `verbose` every live entry, never its
 * data), `clear` removes every entry, `remove` also resets the statistics: the store equivalent of
 * destroying the shared memory segment.
 */
export async function cacheInfo(
  table: Table,
  kind: TlsCacheKind,
  options: { verbose: boolean; nowMs: number },
): Promise<TlsCacheInfo> {
  const record = await readStats(table, kind);
  const info: TlsCacheInfo = {
    kind,
    table: table.name,
    ...(record.createdAt !== undefined ? { createdAt: new Date(record.createdAt).toISOString() } : {}),
    ...(record.maxEntries !== undefined ? { maxEntries: record.maxEntries } : {}),
    ...(record.maxEntryBytes !== undefined ? { maxEntryBytes: record.maxEntryBytes } : {}),
    entries: record.entries,
    bytes: record.bytes,
    stats: record.stats,
  };
  if (!options.verbose) return info;
  const extra =
    kind === 'sessions'
      ? ['protocol', 'startedAt']
      : ['responseStatus', 'certStatus', 'fake', 'fetchedAt', 'staleAt'];
  const entries = (await listEntries(table, kind, extra)).filter((entry) => entry.expiresMs > options.nowMs);
  entries.sort((a, b) => a.expiresMs - b.expiresMs || a.id.localeCompare(b.id));
  info.items = entries.map((entry): TlsCacheEntry => {
    const iso = (name: string) => {
      const value = readNumber(entry.item, name);
      return value === undefined ? undefined : new Date(value).toISOString();
    };
    const protocol = readString(entry.item, 'protocol');
    const startedAt = iso('startedAt');
    const responseStatus = readString(entry.item, 'responseStatus');
    const certStatus = readString(entry.item, 'certStatus');
    const fetchedAt = iso('fetchedAt');
    const staleAt = iso('staleAt');
    const fake = entry.item.fake;
    return {
      key: entry.id,
      bytes: entry.bytes,
      expiresAt: new Date(entry.expiresMs).toISOString(),
      ...(protocol ? { protocol } : {}),
      ...(startedAt ? { startedAt } : {}),
      ...(responseStatus ? { responseStatus } : {}),
      ...(certStatus ? { certStatus } : {}),
      ...(fake && 'BOOL' in fake ? { fake: fake.BOOL === true } : {}),
      ...(fetchedAt ? { fetchedAt } : {}),
      ...(staleAt ? { staleAt } : {}),
    };
  });
  return info;
}

export async function clearCache(table: Table, kind: TlsCacheKind, nowMs: number): Promise<TlsCacheCleared> {
  return { kind, cleared: await clearEntries(table, kind, nowMs), removed: false };
}

export async function removeCache(table: Table, kind: TlsCacheKind, nowMs: number): Promise<TlsCacheCleared> {
  const cleared = await clearEntries(table, kind, nowMs);
  await deleteStats(table, kind);
  return { kind, cleared, removed: true };
}
