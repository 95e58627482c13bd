import type { TlsCacheCleared, TlsCacheEntry, TlsCacheInfo, TlsCacheKind } from '../../contract/tls-cache.js';
import type { Table } from '../store/index.js';
import {
  clearEntries,
  deleteEntry,
  deleteStats,
  listEntries,
  readNumber,
  readStats,
  readString,
} from '../store/index.js';

/** An operator's request the cache cannot carry out as asked (a backend filter on a frontend cache). */
export class TlsCacheRequestError extends Error {
  override readonly name = 'TlsCacheRequestError';
}

/**
 * The operator's commands on a shared cache, as mod_tls's `ftpdctl tls sesscache|ocspcache
 * info|clear|remove`: `info` reads the statistics (and with `verbose` every live entry, never its
 * data), `clear` removes every entry, `remove` also resets the statistics: the store equivalent of
 * destroying the shared memory segment. The backend session cache (mod_proxy's, kept by the edge
 * workers as each backend's TLS client) has the same three, and `clear` can take one backend.
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
      : kind === 'backend-sessions'
        ? ['storedAt']
        : ['responseStatus', 'certStatus', 'fake', 'fetchedAt', 'staleAt'];
  const entries = (await listEntries(table, kind, extra)).filter((entry) => entry.expiresMs > options.nowMs);
  entries.sort((a, b) => a.expiresMs - b.expiresMs || a.id.localeCompare(b.id));
  info.items = entries.map((entry): TlsCacheEntry => {
    const iso = (name: string) => {
      const value = readNumber(entry.item, name);
      return value === undefined ? undefined : new Date(value).toISOString();
    };
    if (kind === 'backend-sessions') {
      const { backend, context } = backendSessionOf(entry.id);
      const stored = iso('storedAt');
      return {
        key: backend,
        context: context.slice(0, 16),
        bytes: entry.bytes,
        expiresAt: new Date(entry.expiresMs).toISOString(),
        ...(stored ? { startedAt: stored } : {}),
      };
    }
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

/**
 * `clear`: every entry; with `backend` (backend sessions only), that backend's sessions under every
 * trust context, so that its next connection makes a full handshake.
 */
export async function clearCache(
  table: Table,
  kind: TlsCacheKind,
  nowMs: number,
  options: { backend?: string | undefined } = {},
): Promise<TlsCacheCleared> {
  const { backend } = options;
  if (backend === undefined) return { kind, cleared: await clearEntries(table, kind, nowMs), removed: false };
  if (kind !== 'backend-sessions') {
    throw new TlsCacheRequestError(`backend= selects backend sessions; the ${kind} cache has no backends`);
  }
  let cleared = 0;
  for (const entry of await listEntries(table, kind)) {
    if (backendSessionOf(entry.id).backend !== backend) continue;
    if (await deleteEntry(table, kind, entry.id, nowMs)) cleared += 1;
  }
  return { kind, cleared, removed: false, backend };
}

/** A backend session entry's id is `<trust context>#<backend>` (handle.ts's backendSessionId). */
function backendSessionOf(id: string): { backend: string; context: string } {
  const hash = id.indexOf('#');
  return { context: id.slice(0, hash), backend: id.slice(hash + 1) };
}

export async function removeCache(table: Table, kind: TlsCacheKind, nowMs: number): Promise<TlsCacheCleared> {
  const cleared = await clearEntries(table, kind, nowMs);
  await deleteStats(table, kind);
  return { kind, cleared, removed: true };
}
