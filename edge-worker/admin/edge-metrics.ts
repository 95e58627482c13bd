import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './metrics-registry.js';

/**
 * Distinct backend label values kept across pools. Forward-proxy destinations are chosen by clients, so
 * without a bound every scanned host:port would be a new series forever.
 */
export const MAX_BACKEND_SERIES = 256;
/** The label value backends beyond MAX_BACKEND_SERIES (all of them busy) are counted under. */
export const OTHER_BACKENDS = 'other';

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Every metric the edge worker exports, in one place (docs/operating.md lists them). Sessions feed
 * them through the SessionRegistry; the control plane, the resolution cache, TLS and backend health
 * through the hooks below.
 */
export class EdgeMetrics {
  readonly registry = new MetricsRegistry();
  readonly sessionsActive: Gauge;
  readonly sessionsTotal: Counter;
  readonly logins: Counter;
  readonly bytes: Counter;
  readonly transferSeconds: Histogram;
  readonly backendConnectSeconds: Histogram;
  readonly backendSessionsActive: Gauge;
  /** 1: this worker's last connect to the backend worked, 0: it failed (passive health as this worker sees it). */
  readonly backendUp: Gauge;
  readonly resolutionCache: Counter;
  readonly tlsSessions: Counter;
  readonly tlsCacheLookups: Counter;
  readonly controlPlaneSeconds: Histogram;
  readonly controlPlaneErrors: Counter;
  readonly sessionsKicked: Counter;
  readonly reloads: Counter;

  constructor() {
    const r = this.registry;
    this.sessionsActive = r.gauge('ftpx_sessions_active', 'Sessions open now, by protocol, pool and role.');
    this.sessionsTotal = r.counter('ftpx_sessions_total', 'Sessions started, by protocol, pool and role.');
    this.logins = r.counter('ftpx_logins_total', 'Login attempts by result (ok, failed), protocol and pool.');
    this.bytes = r.counter(
      'ftpx_transfer_bytes_total',
      'Data bytes relayed, by direction (in: from clients, out: to clients), protocol and pool.',
    );
    this.transferSeconds = r.histogram(
      'ftpx_transfer_duration_seconds',
      'Data transfers (uploads, downloads, listings) by protocol, pool and result.',
      SECONDS_BUCKETS,
    );
    this.backendConnectSeconds = r.histogram(
      'ftpx_backend_connect_seconds',
      'Time to connect to a backend (TCP, and its greeting), by pool and backend.',
      SECONDS_BUCKETS,
    );
    this.backendSessionsActive = r.gauge(
      'ftpx_backend_sessions_active',
      'Sessions connected to each backend now.',
    );
    this.backendUp = r.gauge(
      'ftpx_backend_up',
      'Backend reachability as this worker saw it at its last connect attempt (1 connected, 0 failed).',
    );
    this.resolutionCache = r.counter(
      'ftpx_resolution_cache_total',
      'Backend resolutions by result: live (answered by the control plane), cached (served stale), failed.',
    );
    this.tlsSessions = r.counter(
      'ftpx_tls_sessions_total',
      'TLS handshakes by side (frontend, backend) and session reuse (new, resumed).',
    );
    this.tlsCacheLookups = r.counter(
      'ftpx_tls_cache_lookups_total',
      'Shared TLS cache lookups in the store by cache (sessions, ocsp, backend-sessions) and result (hit, miss, expired, error).',
    );
    this.controlPlaneSeconds = r.histogram(
      'ftpx_control_plane_call_seconds',
      'Control-plane calls by operation and result.',
      SECONDS_BUCKETS,
    );
    this.controlPlaneErrors = r.counter(
      'ftpx_control_plane_errors_total',
      'Failed control-plane calls by operation.',
    );
    this.sessionsKicked = r.counter(
      'ftpx_sessions_kicked_total',
      'Sessions closed by an operator (DELETE /sessions/:id).',
    );
    this.reloads = r.counter('ftpx_config_reloads_total', 'Configuration reloads (SIGHUP) by result.');
  }

  /** Backend label values in use, least recently used first (Map keeps insertion order). */
  private readonly backendSeries = new Map<string, { pool: string; backend: string }>();

  /**
   * The `backend` label value to use for `backend` of `pool`: itself while fewer than MAX_BACKEND_SERIES
   * backends have series; else the least recently used backend without active sessions is forgotten
   * (its series dropped: a removed backend or a destination nobody uses any more), and when every one
   * is busy the new one is counted as OTHER_BACKENDS. The one place that bounds client-chosen labels.
   */
  backendLabel(pool: string, backend: string): string {
    const key = `${pool}\n${backend}`;
    if (this.backendSeries.has(key)) {
      this.backendSeries.delete(key);
      this.backendSeries.set(key, { pool, backend });
      return backend;
    }
    if (this.backendSeries.size >= MAX_BACKEND_SERIES) {
      let evicted = false;
      for (const [oldKey, labels] of this.backendSeries) {
        if (this.backendSessionsActive.get(labels) > 0) continue;
        this.backendSeries.delete(oldKey);
        this.backendUp.delete(labels);
        this.backendSessionsActive.delete(labels);
        this.backendConnectSeconds.delete(labels);
        evicted = true;
        break;
      }
      if (!evicted) return OTHER_BACKENDS;
    }
    this.backendSeries.set(key, { pool, backend });
    return backend;
  }

  /** After every backend connect attempt (ConnectionReporter). */
  setBackendHealth(pool: string, backend: string, healthy: boolean): void {
    this.backendUp.set({ pool, backend: this.backendLabel(pool, backend) }, healthy ? 1 : 0);
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
