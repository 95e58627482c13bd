import type { Table } from '../../functions/core/store/index.js';
import { EdgeMetrics } from '../admin/edge-metrics.js';
import { SessionRegistry } from '../admin/session-registry.js';
import { watchSessionDrops } from '../cluster/memory-return.js';
import { dnsConfigOf } from '../config/discovery-health.js';
import type { FtpxConfig } from '../config/schema.js';
import type { ClosableControlPlaneClient } from '../control-plane/control-plane-client.js';
import { spliceRelayStatus } from '../ftp/data/splice-relay.js';
import { tcpCorkStatus } from '../ftp/data/tcp-cork.js';
import { AbuseDefences } from '../limits/abuse-defences.js';
import type { ListeningAddress } from '../listeners/ftp-listener.js';
import { AccessLog } from '../log/access-log.js';
import type { Logger } from '../log/logger.js';
import { TransferLog } from '../log/transfer-log.js';
import { destinationResolver } from '../net/destination-resolver.js';
import { ConnectionReporter } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import { serverHostKeysFor } from '../sftp/server-host-keys.js';
import { listenerTlsHook } from '../tls/listener-tls-hook.js';
import { tlsCacheSettingsFromConfig } from '../tls/tls-cache-settings.js';
import { lookupResult, type TrackedTlsCache, trackTlsCacheCalls } from '../tls/tracked-tls-cache.js';
import { type WiredControlPlane, wireControlPlane } from './control-plane-wiring.js';
import { ListenerSet } from './listener-set.js';

export interface RunningEdgeWorker {
  listeners: ListeningAddress[];
  /**
   * The DynamoDB-API endpoint in use (the embedded store's when store.endpoint is "embedded");
   * undefined when the control plane is remote (controlPlane.url), which opens no store here.
   */
  storeEndpoint?: string;
  /**
   * The table the in-process control plane reads, on its own client (undefined with a remote
   * control plane): writes through it are seen by the next session at once, as the registry API of
   * `ftpx control-plane serve` is; another client's writes after the read cache's second
   * (functions/core/store/read-cache.ts). Closed with the worker.
   */
  storeTable?: Table;
  /** The remote control plane's URL, when there is one. */
  controlPlaneUrl?: string;
  /** Every open session (any listener, any protocol) and the worker's metrics. */
  sessions: SessionRegistry;
  metrics: EdgeMetrics;
  /** The pools new sessions use now (they change on reload). */
  pools(): Pool[];
  /** False while starting and once draining: what /readyz says. */
  readonly ready: boolean;
  /**
   * Applies a new configuration to new sessions: listeners on the same address keep their socket,
   * new ones start, removed ones stop accepting; running sessions keep the settings they started
   * with. The store, control plane, log and admin settings are not changed by a reload (they are
   * reported in the result). Throws when the new listeners or pools cannot be set up; the old
   * configuration then stays.
   */
  reload(config: FtpxConfig): Promise<{ notApplied: string[] }>;
  /**
   * SIGTERM: stops taking sessions (new clients get 421), lets running ones go on for timeoutMs,
   * closes the rest with 421, then closes everything.
   */
  drain(timeoutMs: number): Promise<{ closedAtDeadline: number }>;
  close(): Promise<void>;
}

/** What sessions still open at the end of a drain are told. */
export const DRAIN_DEADLINE_REPLY = 'Service not available, ftpx is shutting down.';

/** The settings a reload cannot change in a running worker (they need a restart). */
const RESTART_ONLY = [
  'dataDir',
  'store',
  'controlPlane',
  'log',
  'identityHook',
  'transferLog',
  'admin',
  'lifecycle',
] as const;

/**
 * Starts an edge worker: its control plane (in process on the store, or remote with
 * controlPlane.url), then one listener per configured listener.
 */
export async function startEdgeWorker(
  config: FtpxConfig,
  log: Logger,
  options: {
    metrics?: EdgeMetrics;
    /** The control plane to use whatever the config says: a cluster worker's, over IPC to its primary. */
    controlPlane?: ClosableControlPlaneClient;
  } = {},
): Promise<RunningEdgeWorker> {
  const metrics = options.metrics ?? new EdgeMetrics();
  const sessions = new SessionRegistry(metrics);
  // Memory comes back soon after most sessions end, not when V8's memory reducer gets to it.
  const stopMemoryReturn = watchSessionDrops(sessions, (returned) =>
    log.info('memory returned after sessions ended', { ...returned }),
  );
  let ready = false;
  let currentConfig = config;
  let wired: WiredControlPlane | undefined;
  let reporter: ConnectionReporter | undefined;
  let defences: AbuseDefences | undefined;
  let listeners: ListenerSet | undefined;
  /** The control plane as backend FTPS session sharing uses it (closing waits for its calls). */
  let backendTlsCache: TrackedTlsCache | undefined;
  const accessLogs = (config.log.access ?? []).map((access) => new AccessLog(access.file, access.format));
  sessions.onEnd((ended) => {
    for (const accessLog of accessLogs) accessLog.write(ended);
  });
  const transferLog = config.transferLog
    ? new TransferLog(config.transferLog, (err) => log.error('cannot write the transfer log', { error: err }))
    : undefined;
  const close = async () => {
    stopMemoryReturn();
    await wired?.stopBackground();
    reporter?.stop();
    await defences?.stop();
    ready = false;
    await listeners?.close();
    // Backend TLS session puts run in the background: the store must outlive them.
    await backendTlsCache?.settled();
    await wired?.close();
    await transferLog?.close();
    await Promise.all(accessLogs.map((accessLog) => accessLog.close()));
    await listeners?.closeLogs();
  };
  try {
    const cork = tcpCorkStatus();
    if (cork.available) log.info('data connections end with TCP_CORK', { addon: cork.path });
    else log.info('data connections end without TCP_CORK', { reason: cork.reason });
    const splice = spliceRelayStatus();
    if (splice.available) log.info('plain data connections are relayed with splice(2)', { relay: 'splice' });
    else log.info('plain data connections are relayed in JS', { relay: 'js', reason: splice.reason });
    wired = await wireControlPlane(config, log, metrics, options.controlPlane);
    const { controlPlane } = wired;
    reporter = new ConnectionReporter(controlPlane, log, (pool, backend, reachable) =>
      metrics.setBackendHealth(pool, backend, reachable),
    );
    // Bans and the BanOnEvent rules are process-wide (mod_ban's): a reload changes their settings, and
    // keeps the list and the counts.
    defences = new AbuseDefences(controlPlane, config.bans, log.child({ component: 'limits' }));
    await defences.start();
    // The TLS cache settings are process-wide (mod_tls_shmcache's); a reload keeps them.
    backendTlsCache = trackTlsCacheCalls(controlPlane, 'the edge worker is closing', (request, outcome) => {
      if (request.op === 'backend-session-get')
        metrics.tlsCacheLookup('backend-sessions', lookupResult(outcome));
    });
    const set = new ListenerSet({
      controlPlane,
      reporter,
      transferLog,
      log,
      sessions,
      // Names the operator did not write (forward destinations, registered backends) resolve here.
      resolveDestination: destinationResolver(dnsConfigOf(config)),
      serverHostKeys: serverHostKeysFor(controlPlane),
      defences,
      backendSessions: {
        controlPlane: backendTlsCache.client,
        lookupTimeoutMs: tlsCacheSettingsFromConfig(config.tlsCache).lookupTimeoutMs,
        // `ftpx cache clear --backends` reaches this worker's copies within the local TTL.
        localTtlMs: tlsCacheSettingsFromConfig(config.tlsCache).sessions.localTtlMs,
        log: log.child({ component: 'backend-tls-sessions' }),
      },
      tlsHook: listenerTlsHook({
        controlPlane,
        settings: tlsCacheSettingsFromConfig(config.tlsCache),
        log: log.child({ component: 'tls-cache' }),
        metrics,
      }),
    });
    listeners = set;
    await set.start(config);
    // Backends listed in the config (the current one: a reload changes them) get active checks too.
    wired.checkListedBackends(() => set.currentPools());
    ready = true;
    const worker: RunningEdgeWorker = {
      listeners: set.addresses,
      storeEndpoint: wired.store?.endpoint,
      ...(wired.store ? { storeTable: wired.store.table } : {}),
      ...(config.controlPlane?.url !== undefined ? { controlPlaneUrl: config.controlPlane.url } : {}),
      sessions,
      metrics,
      pools: () => set.currentPools(),
      get ready() {
        return ready;
      },
      reload: async (next) => {
        worker.listeners = await set.reload(next);
        await defences?.configure(next.bans);
        const notApplied = RESTART_ONLY.filter(
          (key) => JSON.stringify(currentConfig[key]) !== JSON.stringify(next[key]),
        );
        currentConfig = {
          ...next,
          ...Object.fromEntries(RESTART_ONLY.map((key) => [key, currentConfig[key]])),
        };
        metrics.reloads.inc({ result: 'ok' });
        return { notApplied: [...notApplied] };
      },
      drain: async (timeoutMs) => {
        ready = false;
        set.drain();
        const empty = await sessions.whenEmpty(timeoutMs);
        const closedAtDeadline = empty ? 0 : sessions.size;
        if (!empty) {
          log.info('drain deadline reached: closing the remaining sessions', { sessions: closedAtDeadline });
          sessions.closeAll(DRAIN_DEADLINE_REPLY);
          await sessions.whenEmpty(2000);
        }
        await close();
        return { closedAtDeadline };
      },
      close,
    };
    return worker;
  } catch (err) {
    await close();
    throw err;
  }
}
