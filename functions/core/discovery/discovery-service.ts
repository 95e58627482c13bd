import { type BackendUrl, parseBackendUrl } from '../backend-url.js';
import type { Table } from '../store/index.js';
import {
  type CachedDiscovery as CachedAnswer,
  listCachedDiscoveries,
  readCachedDiscovery,
  writeCachedDiscovery,
} from '../store/index.js';
import { type Discovery, discover } from './discover.js';
import { answerTimes, DEFAULT_DISCOVERY_SETTINGS, type DiscoverySettings } from './discovery-settings.js';
import { DnsClient } from './dns-client.js';

/** A discovery answer as the store keeps it. */
type CachedDiscovery = CachedAnswer<Discovery>;

/** Discovery could not resolve a name and had no earlier answer to fall back on. */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

/** What discovery runs with: the store (the shared cache), a resolver, its settings and a clock. */
export interface DiscoveryContext {
  table: Table;
  dns: DnsClient;
  settings: DiscoverySettings;
  now: () => number;
  /** Called with refresh-ahead failures, which nobody awaits. */
  onBackgroundError?: (source: string, err: unknown) => void;
  /** Resolutions under way in this process, by source: concurrent callers share one. */
  inflight?: Map<string, Promise<CachedDiscovery>>;
}

export function createDiscoveryContext(
  table: Table,
  settings: Partial<DiscoverySettings> = {},
  now: () => number = Date.now,
): DiscoveryContext {
  const merged = { ...DEFAULT_DISCOVERY_SETTINGS, ...settings };
  return {
    table,
    dns: new DnsClient({ servers: merged.servers, timeoutMs: merged.timeoutMs }),
    settings: merged,
    now,
  };
}

export interface DiscoveryAnswer {
  discovery: Discovery;
  /** "cache": a valid stored answer; "dns": resolved now; "stale": DNS failed, an expired answer stood in. */
  from: 'cache' | 'dns' | 'stale';
  validUntil: number;
}

/**
 * The answer for one `+srv` / `+txt` URL, shared by every edge worker through the store: a valid
 * stored answer is used as it is (and refreshed in the background once due, so the next caller finds
 * a fresh one); an expired or missing one is resolved now. When DNS fails, an expired answer is used
 * for up to `staleForMs`; without one, DiscoveryError.
 */
export async function discoverUrl(
  context: DiscoveryContext,
  source: string,
  url: BackendUrl,
  options: { force?: boolean } = {},
): Promise<DiscoveryAnswer> {
  const now = context.now();
  const cached = await readCachedDiscovery<Discovery>(context.table, source, now);
  if (!options.force && cached && now < cached.validUntil) {
    if (now >= cached.refreshAt) {
      resolveAndStore(context, source, url, cached).catch((err: unknown) =>
        context.onBackgroundError?.(source, err),
      );
    }
    return { discovery: cached.discovery, from: 'cache', validUntil: cached.validUntil };
  }
  try {
    const fresh = await resolveAndStore(context, source, url, cached);
    return { discovery: fresh.discovery, from: 'dns', validUntil: fresh.validUntil };
  } catch (err) {
    if (cached) return { discovery: cached.discovery, from: 'stale', validUntil: cached.validUntil };
    throw new DiscoveryError(
      `cannot resolve ${source}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** One resolution per source at a time in this process: many sessions at once ask DNS once. */
function resolveAndStore(
  context: DiscoveryContext,
  source: string,
  url: BackendUrl,
  previous: CachedDiscovery | undefined,
  keepUsedUntil = false,
): Promise<CachedDiscovery> {
  context.inflight ??= new Map();
  const inflight = context.inflight;
  const running = inflight.get(source);
  if (running) return running;
  const started = resolveAndStoreOnce(context, source, url, previous, keepUsedUntil).finally(() =>
    inflight.delete(source),
  );
  inflight.set(source, started);
  return started;
}

async function resolveAndStoreOnce(
  context: DiscoveryContext,
  source: string,
  url: BackendUrl,
  previous: CachedDiscovery | undefined,
  keepUsedUntil: boolean,
): Promise<CachedDiscovery> {
  const resolvedAt = context.now();
  const discovery = await discover(source, url, context.dns, context.settings);
  const cached: CachedDiscovery = {
    discovery,
    resolvedAt,
    ...answerTimes(resolvedAt, discovery.ttlSeconds, context.settings),
    usedUntil:
      keepUsedUntil && previous ? previous.usedUntil : resolvedAt + context.settings.keepRefreshingMs,
  };
  await writeCachedDiscovery(context.table, cached, context.settings.staleForMs);
  return cached;
}

export interface RefreshReport {
  refreshed: { source: string; outcome: Discovery['outcome']; targets: number; ttlSeconds: number }[];
  failed: { source: string; reason: string }[];
  /** Answers that were not due yet. */
  skipped: number;
}

/**
 * The scheduled run: refreshes every cached answer still in use that is due now or within
 * `withinMs` (the time to the next run), so callers keep finding valid answers. `force` refreshes
 * all of them; `sources` limits the run to those URLs (and resolves them even if never cached).
 */
export async function refreshDiscoveries(
  context: DiscoveryContext,
  options: { withinMs?: number; force?: boolean; sources?: readonly string[] } = {},
): Promise<RefreshReport> {
  const now = context.now();
  const report: RefreshReport = { refreshed: [], failed: [], skipped: 0 };
  const todo: { source: string; previous?: CachedDiscovery }[] = [];
  if (options.sources) {
    for (const source of options.sources) {
      const previous = await readCachedDiscovery<Discovery>(context.table, source, now);
      todo.push({ source, ...(previous ? { previous } : {}) });
    }
  } else {
    for (const cached of await listCachedDiscoveries<Discovery>(context.table, now)) {
      if (options.force || cached.refreshAt <= now + (options.withinMs ?? 0)) {
        todo.push({ source: cached.discovery.source, previous: cached });
      } else {
        report.skipped += 1;
      }
    }
  }
  for (const { source, previous } of todo) {
    const parsed = parseBackendUrl(source);
    if (!parsed.ok || !parsed.url.discovery) {
      report.failed.push({ source, reason: parsed.ok ? 'not a +srv or +txt URL' : parsed.error });
      continue;
    }
    try {
      const fresh = await resolveAndStore(
        context,
        source,
        parsed.url,
        previous,
        options.sources === undefined,
      );
      report.refreshed.push({
        source,
        outcome: fresh.discovery.outcome,
        targets: fresh.discovery.targets.length,
        ttlSeconds: fresh.discovery.ttlSeconds,
      });
    } catch (err) {
      report.failed.push({ source, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return report;
}
