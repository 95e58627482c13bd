import type { EdgeMetrics } from './edge-metrics.js';
import type { SessionSummary } from './session-registry.js';

export interface BackendStatus {
  pool: string;
  backend: string;
  /** From the health checks when they run; "unknown" until one reported. */
  health: 'up' | 'down' | 'unknown';
  activeSessions: number;
}

/** What /status.json returns and the status page shows. */
export interface StatusSnapshot {
  generatedAt: string;
  ready: boolean;
  /** Worker processes the numbers cover (1 without a cluster). */
  workers: number;
  backends: BackendStatus[];
  sessions: SessionSummary[];
  /** Bytes per 10 s slot over the last 10 minutes, oldest first. */
  throughput: { at: string; in: number; out: number }[];
}

/** The backends of the pools, with what the metrics know of them. */
export function backendStatuses(
  pools: { config: { name: string }; global: { key: string }[] }[],
  metrics: EdgeMetrics,
): BackendStatus[] {
  const rows: BackendStatus[] = [];
  const seen = new Set<string>();
  const add = (pool: string, backend: string) => {
    const id = `${pool}\n${backend}`;
    if (seen.has(id)) return;
    seen.add(id);
    const view = metrics.backend(pool, backend);
    rows.push({
      pool,
      backend,
      health: view?.up === undefined ? 'unknown' : view.up ? 'up' : 'down',
      activeSessions: view?.activeSessions ?? 0,
    });
  };
  for (const pool of pools) for (const backend of pool.global) add(pool.config.name, backend.key);
  // Backends from the registry or per-user lists appear once this worker connected to them.
  for (const view of metrics.knownBackends()) add(view.pool, view.backend);
  return rows;
}

/** Sums the same backend over several workers. */
export function mergeBackendStatuses(lists: BackendStatus[][]): BackendStatus[] {
  const merged = new Map<string, BackendStatus>();
  for (const list of lists) {
    for (const row of list) {
      const id = `${row.pool}\n${row.backend}`;
      const existing = merged.get(id);
      if (!existing) merged.set(id, { ...row });
      else {
        existing.activeSessions += row.activeSessions;
        if (row.health === 'down' || existing.health === 'unknown') existing.health = row.health;
      }
    }
  }
  return [...merged.values()];
}

export function mergeThroughput(lists: StatusSnapshot['throughput'][]): StatusSnapshot['throughput'] {
  const merged = new Map<string, { at: string; in: number; out: number }>();
  for (const list of lists) {
    for (const slot of list) {
      const existing = merged.get(slot.at);
      if (!existing) merged.set(slot.at, { ...slot });
      else {
        existing.in += slot.in;
        existing.out += slot.out;
      }
    }
  }
  return [...merged.values()].sort((a, b) => a.at.localeCompare(b.at));
}
