import {
  Counter,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import { processMetricsRegistry } from './process-metrics.js';

/**
 * Distinct backend label values kept across pools. Forward-proxy destinations are chosen by clients, so
 * without a bound every scanned host:port would be a new series forever.
 */
export const MAX_BACKEND_SERIES = 256;
/** The label value backends beyond MAX_BACKEND_SERIES (all of them busy) are counted under. */
export const OTHER_BACKENDS = 'other';

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A worker's samples as prom-client's JSON: what a cluster worker sends its primary to aggregate. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** What this worker knows of one backend (the status page), without reading the metrics back. */
export interface BackendView {
  pool: string;
  backend: string;
  /** Its last connect from this worker; undefined before one was reported. */
  up: boolean | undefined;
  activeSessions: number;
}

/**
 * Every metric the edge worker exports, in one place (docs/operating.md lists them), on prom-client
 * with the label names of each declared here. Sessions feed them through the SessionRegistry; the
 * control plane, the resolution cache, TLS and backend health through the hooks below. The registry
 * is this worker's own (tests run several in one process); the process's default metrics (CPU,
 * memory, event loop lag, GC) come from one shared registry and are rendered with it.
 */
export class EdgeMetrics {
  readonly registry = new Registry();
  readonly sessionsActive: Gauge<'protocol' | 'pool' | 'role'>;
  readonly sessionsTotal: Counter<'protocol' | 'pool' | 'role'>;
  readonly logins: Counter<'protocol' | 'pool' | 'role' | 'result'>;
  readonly bytes: Counter<'protocol' | 'pool' | 'direction'>;
  readonly transferSeconds: Histogram<'protocol' | 'pool' | 'result'>;
  readonly backendConnectSeconds: Histogram<'pool' | 'backend'>;
  readonly backendSessionsActive: Gauge<'pool' | 'backend'>;
  /** 1: this worker's last connect to the backend worked, 0: it failed (passive health as this worker sees it). */
  readonly backendUp: Gauge<'pool' | 'backend'>;
  readonly resolutionCache: Counter<'result'>;
  readonly tlsSessions: Counter<'side' | 'reuse'>;
  readonly tlsCacheLookups: Counter<'cache' | 'result'>;
  readonly controlPlaneSeconds: Histogram<'operation' | 'result'>;
  readonly controlPlaneErrors: Counter<'operation'>;
  readonly sessionsKicked: Counter;
  readonly reloads: Counter<'result'>;

  /**
   * Backends with series, least recently used first (Map keeps insertion order), with what the status
   * page shows of them: prom-client's reads are asynchronous, and the bound needs the active count now.
   */
  private readonly backends = new Map<string, BackendView>();
  /** Sessions counted under OTHER_BACKENDS, per pool. */
  private readonly otherActive = new Map<string, number>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.includeProcessMetrics = options.processMetrics ?? true;
    this.sessionsActive = new Gauge({
      name: 'ftpx_sessions_active',
      help: 'Sessions open now, by protocol, pool and role.',
      labelNames: ['protocol', 'pool', 'role'] as const,
      registers,
    });
    this.sessionsTotal = new Counter({
      name: 'ftpx_sessions_total',
      help: 'Sessions started, by protocol, pool and role.',
      labelNames: ['protocol', 'pool', 'role'] as const,
      registers,
    });
    this.logins = new Counter({
      name: 'ftpx_logins_total',
      help: 'Login attempts by result (ok, failed), protocol and pool.',
      labelNames: ['protocol', 'pool', 'role', 'result'] as const,
      registers,
    });
    this.bytes = new Counter({
      name: 'ftpx_transfer_bytes_total',
      help: 'Data bytes relayed, by direction (in: from clients, out: to clients), protocol and pool.',
      labelNames: ['protocol', 'pool', 'direction'] as const,
      registers,
    });
    this.transferSeconds = new Histogram({
      name: 'ftpx_transfer_duration_seconds',
      help: 'Data transfers (uploads, downloads, listings) by protocol, pool and result.',
      labelNames: ['protocol', 'pool', 'result'] as const,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.backendConnectSeconds = new Histogram({
      name: 'ftpx_backend_connect_seconds',
      help: 'Time to connect to a backend (TCP, and its greeting), by pool and backend.',
      labelNames: ['pool', 'backend'] as const,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.backendSessionsActive = new Gauge({
      name: 'ftpx_backend_sessions_active',
      help: 'Sessions connected to each backend now.',
      labelNames: ['pool', 'backend'] as const,
      registers,
    });
    this.backendUp = new Gauge({
      name: 'ftpx_backend_up',
      help: 'Backend reachability as this worker saw it at its last connect attempt (1 connected, 0 failed).',
      labelNames: ['pool', 'backend'] as const,
      registers,
    });
    this.resolutionCache = new Counter({
      name: 'ftpx_resolution_cache_total',
      help: 'Backend resolutions by result: live (answered by the control plane), cached (served stale), failed.',
      labelNames: ['result'] as const,
      registers,
    });
    this.tlsSessions = new Counter({
      name: 'ftpx_tls_sessions_total',
      help: 'TLS handshakes by side (frontend, backend) and session reuse (new, resumed).',
      labelNames: ['side', 'reuse'] as const,
      registers,
    });
    this.tlsCacheLookups = new Counter({
      name: 'ftpx_tls_cache_lookups_total',
      help: 'Shared TLS cache lookups in the store by cache (sessions, ocsp, backend-sessions) and result (hit, miss, expired, error).',
      labelNames: ['cache', 'result'] as const,
      registers,
    });
    this.controlPlaneSeconds = new Histogram({
      name: 'ftpx_control_plane_call_seconds',
      help: 'Control-plane calls by operation and result.',
      labelNames: ['operation', 'result'] as const,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.controlPlaneErrors = new Counter({
      name: 'ftpx_control_plane_errors_total',
      help: 'Failed control-plane calls by operation.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.sessionsKicked = new Counter({
      name: 'ftpx_sessions_kicked_total',
      help: 'Sessions closed by an operator (DELETE /sessions/:id).',
      registers,
    });
    this.reloads = new Counter({
      name: 'ftpx_config_reloads_total',
      help: 'Configuration reloads (SIGHUP) by result.',
      labelNames: ['result'] as const,
      registers,
    });
  }

  private readonly includeProcessMetrics: boolean;

  /** The exposition text of this worker (its metrics and the process's), for /metrics. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    return this.includeProcessMetrics ? `${own}\n${await processMetricsRegistry().metrics()}` : own;
  }

  /** The same samples as JSON, for the cluster primary's AggregatorRegistry. */
  async snapshot(): Promise<MetricsSnapshot> {
    const own = await this.registry.getMetricsAsJSON();
    return this.includeProcessMetrics
      ? [...own, ...(await processMetricsRegistry().getMetricsAsJSON())]
      : own;
  }

  /**
   * The `backend` label value to use for `backend` of `pool`: itself while fewer than MAX_BACKEND_SERIES
   * backends have series; else the least recently used backend without active sessions is forgotten
   * (its series dropped: a removed backend or a destination nobody uses any more), and when every one
   * is busy the new one is counted as OTHER_BACKENDS. The one place that bounds client-chosen labels.
   */
  backendLabel(pool: string, backend: string): string {
    const key = `${pool}\n${backend}`;
    const known = this.backends.get(key);
    if (known) {
      this.backends.delete(key);
      this.backends.set(key, known);
      return backend;
    }
    if (this.backends.size >= MAX_BACKEND_SERIES) {
      let evicted = false;
      for (const [oldKey, view] of this.backends) {
        if (view.activeSessions > 0) continue;
        this.backends.delete(oldKey);
        const labels = { pool: view.pool, backend: view.backend };
        this.backendUp.remove(labels);
        this.backendSessionsActive.remove(labels);
        this.backendConnectSeconds.remove(labels);
        evicted = true;
        break;
      }
      if (!evicted) return OTHER_BACKENDS;
    }
    this.backends.set(key, { pool, backend, up: undefined, activeSessions: 0 });
    return backend;
  }

  /** A session connected to a backend under `label` (from backendLabel), `connectMs` after it asked. */
  backendSessionOpened(pool: string, label: string, connectMs?: number): void {
    this.countBackendSession(pool, label, 1);
    if (connectMs !== undefined)
      this.backendConnectSeconds.observe({ pool, backend: label }, connectMs / 1000);
  }

  backendSessionClosed(pool: string, label: string): void {
    this.countBackendSession(pool, label, -1);
  }

  private countBackendSession(pool: string, label: string, delta: 1 | -1): void {
    this.backendSessionsActive.inc({ pool, backend: label }, delta);
    if (label === OTHER_BACKENDS) {
      this.otherActive.set(pool, (this.otherActive.get(pool) ?? 0) + delta);
      return;
    }
    const view = this.backends.get(`${pool}\n${label}`);
    if (view) view.activeSessions += delta;
  }

  /** After every backend connect attempt (ConnectionReporter). */
  setBackendHealth(pool: string, backend: string, healthy: boolean): void {
    const label = this.backendLabel(pool, backend);
    this.backendUp.set({ pool, backend: label }, healthy ? 1 : 0);
    const view = this.backends.get(`${pool}\n${label}`);
    if (view) view.up = healthy;
  }

  /** What this worker knows of `backend` of `pool`, or undefined when it has no series. */
  backend(pool: string, backend: string): BackendView | undefined {
    if (backend === OTHER_BACKENDS) {
      const active = this.otherActive.get(pool);
      return active === undefined ? undefined : { pool, backend, up: undefined, activeSessions: active };
    }
    const view = this.backends.get(`${pool}\n${backend}`);
    return view ? { ...view } : undefined;
  }

  /** Every backend with series (and OTHER_BACKENDS per pool once used), least recently used first. */
  knownBackends(): BackendView[] {
    return [
      ...[...this.backends.values()].map((view) => ({ ...view })),
      ...[...this.otherActive].map(([pool, activeSessions]) => ({
        pool,
        backend: OTHER_BACKENDS,
        up: undefined,
        activeSessions,
      })),
    ];
  }

  /** The hook for TLS: one call per completed handshake. */
  tlsHandshake(side: 'frontend' | 'backend', resumed: boolean): void {
    this.tlsSessions.inc({ side, reuse: resumed ? 'resumed' : 'new' });
  }

  /** Shared TLS cache lookups in the store (local LRU hits never get this far): hit, miss or error. */
  tlsCacheLookup(cache: 'sessions' | 'ocsp' | 'backend-sessions', result: string): void {
    this.tlsCacheLookups.inc({ cache, result });
  }

  /** The hook for the resolution cache (control-plane/cached-control-plane.ts). */
  resolution(result: 'live' | 'cached' | 'failed'): void {
    this.resolutionCache.inc({ result });
  }
}

/** One sample's value (0 when it has none yet): for tests and tools that read a metric back. */
export async function sampleValue(
  metric: { get(): Promise<MetricObjectWithValues<MetricValue<string>>> },
  labels: Record<string, string> = {},
): Promise<number> {
  const wanted = Object.entries(labels);
  const { values } = await metric.get();
  const found = values.find(
    (value) =>
      Object.keys(value.labels).length === wanted.length &&
      wanted.every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return found?.value ?? 0;
}
