import { type BackendUrl, parseBackendUrl } from '../backend-url.js';
import type { ListEntry } from '../connect-policies/index.js';
import type { DiscoveryContext } from '../discovery/index.js';
import { expandDiscovered, isDiscoveryKey } from '../discovery/index.js';
import { listPoolBackends } from '../registry/index.js';
import type { Table } from '../store/index.js';
import {
  poolsWithHealth,
  queryLive,
  REGISTRY_POOL_PREFIX,
  REGISTRY_POOLS_PK,
  readPoolHealth,
  readString,
  StoreError,
} from '../store/index.js';

/** One backend of one pool to check (health is kept per pool). */
export interface CheckTarget {
  pool: string;
  backend: string;
  url: BackendUrl;
  /**
   * Listed by the operator (the caller's `listed`, not through `+srv` / `+txt`): checked as written.
   * Registered, discovered and health-record-only targets pass the destination address policy first
   * (target-destinations.ts).
   */
  operator: boolean;
}

/** Backends an edge worker lists in its configuration (the control plane does not know them otherwise). */
export interface ListedBackends {
  pool: string;
  backends: string[];
  /**
   * The pool's `allowDestinationNetworks` as the edge's YAML has it: what the address policy allows
   * for this pool's registered and discovered targets besides public addresses.
   */
  allowDestinationNetworks?: string[];
}

/**
 * What a check run covers: for each pool, the backends listed by the caller (an embedded control
 * plane passes its configuration's), the pool's registered backends, and every backend that has a
 * health record (so a backend marked unhealthy by failed connects is checked and can come back);
 * `+srv` / `+txt` entries are expanded through discovery. Without `pools`, every pool listed,
 * registered, or with health records.
 */
export async function gatherCheckTargets(
  table: Table,
  discovery: DiscoveryContext,
  request: { pools?: readonly string[]; listed?: readonly ListedBackends[]; nowMs: number },
): Promise<CheckTarget[]> {
  const listed = request.listed ?? [];
  const pools = request.pools ?? [
    ...new Set([
      ...listed.map((entry) => entry.pool),
      ...(await registeredPools(table, request.nowMs)),
      ...(await poolsWithHealth(table, request.nowMs)),
    ]),
  ];
  const targets: CheckTarget[] = [];
  for (const pool of pools) {
    const [registered, health] = await Promise.all([
      listPoolBackends(table, pool),
      readPoolHealth(table, pool, request.nowMs),
    ]);
    const entries: ListEntry[] = [
      ...listed
        .filter((entry) => entry.pool === pool)
        .flatMap((entry) => entry.backends.map((backend) => ({ backend }))),
      ...registered.map((backend) => ({ backend: backend.backend, url: backend.url })),
      ...health.map((record) => ({ backend: record.backend })),
    ];
    const { entries: expanded } = await expandDiscovered(discovery, entries);
    // The exact keys the operator wrote; a discovered or registered target with the same key is the
    // same host and port, which the operator named.
    const operatorKeys = new Set(
      listed
        .filter((entry) => entry.pool === pool)
        .flatMap((entry) => entry.backends.filter((backend) => !isDiscoveryKey(backend))),
    );
    const seen = new Set<string>();
    for (const entry of expanded) {
      if (seen.has(entry.backend)) continue;
      seen.add(entry.backend);
      const parsed = parseBackendUrl(entry.url ?? entry.backend);
      if (!parsed.ok || parsed.url.discovery) continue;
      targets.push({
        pool,
        backend: entry.backend,
        url: parsed.url,
        operator: operatorKeys.has(entry.backend),
      });
    }
  }
  return targets;
}

async function registeredPools(table: Table, nowMs: number): Promise<string[]> {
  try {
    const items = await queryLive(table, REGISTRY_POOLS_PK, REGISTRY_POOL_PREFIX, nowMs);
    return items.flatMap((item) => {
      const name = readString(item, 'name');
      return name === undefined ? [] : [name];
    });
  } catch (err) {
    throw new StoreError('cannot list the registered pools', { cause: err });
  }
}
