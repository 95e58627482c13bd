import { readFileSync } from 'node:fs';
import { importAuthUserFile } from '../../functions/shared/auth/auth-user-file.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
} from '../../functions/shared/discovery/discovery-service.js';
import { DestinationPolicy, parseAllowNetworks } from '../../functions/shared/net/destination-policy.js';
import { createDynamoDbClient } from '../../functions/shared/store/dynamodb-client.js';
import { sweepExpired } from '../../functions/shared/store/sweep-expired.js';
import { ensureTable, type Table } from '../../functions/shared/store/table.js';
import { EdgeMetrics } from '../admin/edge-metrics.js';
import { instrumentControlPlane } from '../admin/instrumented-control-plane.js';
import { SessionRegistry } from '../admin/session-registry.js';
import { createSigV4Signer } from '../aws/request-signer.js';
import { dnsConfigOf, healthConfigOf } from '../config/discovery-health.js';
import type { ControlPlaneConfig, FtpxConfig } from '../config/schema.js';
import { createCachedControlPlane } from '../control-plane/cached-control-plane.js';
import type {
  ClosableControlPlaneClient,
  ControlPlaneClient,
} from '../control-plane/control-plane-client.js';
import { createHttpControlPlane } from '../control-plane/http-transport.js';
import { createInProcessControlPlane } from '../control-plane/in-process-transport.js';
import {
  activeCheckOptionsOf,
  discoverySettingsOf,
  healthSettingsOf,
} from '../embedded/control-plane-settings.js';
import { discoveryRefreshJob, healthCheckJob, Scheduler } from '../embedded/scheduled-functions.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../embedded/store-server.js';
import { ClientClasses } from '../forward/client-class.js';
import { LoopGuard } from '../forward/loop-guard.js';
import { FtpListener, type ListeningAddress } from '../listeners/ftp-listener.js';
import { SftpListener } from '../listeners/sftp-listener.js';
import { AccessLog } from '../log/access-log.js';
import { fileSink, type Logger, type LogSink } from '../log/logger.js';
import { TransferLog } from '../log/transfer-log.js';
import { destinationResolver } from '../net/destination-resolver.js';
import { ConnectionReporter } from '../reverse/connection-reporter.js';
import { loadPool, type Pool } from '../reverse/pool.js';
import { serverHostKeysFor } from '../sftp/server-host-keys.js';
import type { SharedBackendSessions } from '../tls/backend-tls-sessions.js';
import { FrontendTls } from '../tls/frontend-tls-context.js';
import { listenerTlsHook } from '../tls/listener-tls-hook.js';
import { tlsCacheSettingsFromConfig } from '../tls/tls-cache-settings.js';
import { lookupResult, type TrackedTlsCache, trackTlsCacheCalls } from '../tls/tracked-tls-cache.js';

const SWEEP_INTERVAL_MS = 60_000;

/** A listener of either protocol: both hand their socket over on reload and drain alike. */
type Listener = FtpListener | SftpListener;

/**
 * AuthUserFile / AuthGroupFile of proxy-authenticating pools become their proxy users at start (in the
 * store the in-process control plane reads; with a remote control plane, import there instead).
 */
export async function importAuthUserFiles(config: FtpxConfig, table: Table, log: Logger): Promise<void> {
  for (const pool of config.pools) {
    if (!pool.authUserFile) continue;
    const result = await importAuthUserFile(
      table,
      pool.name,
      { userFile: pool.authUserFile, ...(pool.authGroupFile ? { groupFile: pool.authGroupFile } : {}) },
      { createPool: true },
    );
    for (const error of result.errors) log.warn('AuthUserFile line skipped', { ...error });
    log.info('proxy users imported', {
      pool: pool.name,
      file: pool.authUserFile,
      created: result.created.length,
      updated: result.updated.length,
      unchanged: result.unchanged.length,
    });
  }
}

export interface RunningEdgeWorker {
  listeners: ListeningAddress[];
  /**
   * The DynamoDB-API endpoint in use (the embedded store's when store.endpoint is "embedded");
   * undefined when the control plane is remote (controlPlane.url), which opens no store here.
   */
  storeEndpoint?: string;
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
 * Starts an edge worker with an in-process control plane: the store (embedded dynalite, or the
 * configured DynamoDB-API endpoint), the table, then one listener per configured listener. With
 * controlPlane.url, the control plane is called over HTTP instead and no store is opened here.
 */
export async function startEdgeWorker(
  config: FtpxConfig,
  log: Logger,
  options: { metrics?: EdgeMetrics } = {},
): Promise<RunningEdgeWorker> {
  let embedded: EmbeddedStoreServer | undefined;
  let listeners: Listener[] = [];
  /** Listeners a reload replaced or removed: no longer accepting, their sessions still running. */
  const retired = new Set<Listener>();
  const metrics = options.metrics ?? new EdgeMetrics();
  const sessions = new SessionRegistry(metrics);
  let ready = false;
  let currentConfig = config;
  let currentPools = new Map<string, Pool>();
  let table: Table | undefined;
  let reporter: ConnectionReporter | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let scheduler: Scheduler | undefined;
  let discovery: DiscoveryContext | undefined;
  let controlPlane: ControlPlaneClient | undefined;
  /** The control plane as backend FTPS session sharing uses it (closing waits for its calls). */
  let backendTlsCache: TrackedTlsCache | undefined;
  /** Per-listener ProxyLog files, kept across reloads (a file is opened once). */
  const listenerSinks = new Map<string, LogSink>();
  const accessLogs = (config.log.access ?? []).map((access) => new AccessLog(access.file, access.format));
  sessions.onEnd((ended) => {
    for (const accessLog of accessLogs) accessLog.write(ended);
  });
  const transferLog = config.transferLog
    ? new TransferLog(config.transferLog, (err) => log.error('cannot write the transfer log', { error: err }))
    : undefined;
  const close = async () => {
    clearInterval(sweeper);
    await scheduler?.stop();
    reporter?.stop();
    ready = false;
    await Promise.all([...listeners, ...retired].map((listener) => listener.close()));
    // Backend TLS session puts run in the background: the store must outlive them.
    await backendTlsCache?.settled();
    await (controlPlane as Partial<ClosableControlPlaneClient> | undefined)?.close?.();
    await transferLog?.close();
    await Promise.all(accessLogs.map((accessLog) => accessLog.close()));
    await Promise.all([...listenerSinks.values()].map((sink) => sink.close?.()));
    table?.client.destroy();
    await embedded?.close();
  };
  try {
    let storeEndpoint: string | undefined;
    const remoteUrl = config.controlPlane?.url;
    if (config.controlPlane && remoteUrl !== undefined) {
      // The control plane is remote: it owns the store, so none is opened here.
      controlPlane = createRemoteControlPlane({ ...config.controlPlane, url: remoteUrl }, log, metrics);
      log.info('control plane is remote', { url: remoteUrl });
    } else {
      let endpoint: string;
      if (config.store.endpoint === 'embedded') {
        embedded = await startEmbeddedStore(config.dataDir);
        endpoint = embedded.endpoint;
      } else {
        endpoint = config.store.endpoint;
      }
      storeEndpoint = endpoint;
      table = {
        client: createDynamoDbClient({ endpoint, region: config.store.region }),
        name: config.store.table,
      };
      const created = await ensureTable(table);
      log.info('store ready', { endpoint, table: table.name, table_state: created });
      discovery = createDiscoveryContext(table, discoverySettingsOf(config));
      discovery.onBackgroundError = (source, err) =>
        log.warn('discovery refresh failed', { source, error: err });
      controlPlane = instrumentControlPlane(
        createInProcessControlPlane(table, {
          ...(config.identityHook ? { identityHook: config.identityHook } : {}),
          discovery,
          health: healthSettingsOf(config),
        }),
        metrics,
      );
      // The embedded control plane has no EventBridge: its scheduled functions run on timers here.
      scheduler = new Scheduler(log);
      scheduler.add(discoveryRefreshJob(discovery, dnsConfigOf(config).refreshInterval, log));
      await importAuthUserFiles(config, table, log);
      if (embedded) {
        // Neither dynalite nor DynamoDB deletes expired items on time; in AWS, the table's TTL does it.
        const store = table;
        sweeper = setInterval(() => {
          sweepExpired(store, Date.now()).catch((err: unknown) =>
            log.warn('sweep of expired items failed', { error: err }),
          );
        }, SWEEP_INTERVAL_MS);
        sweeper.unref();
      }
    }
    reporter = new ConnectionReporter(controlPlane, log, (pool, backend, reachable) =>
      metrics.setBackendHealth(pool, backend, reachable),
    );
    // Names the operator did not write (forward destinations, registered backends) resolve here.
    const resolveDestination = destinationResolver(dnsConfigOf(config));
    const shared = { controlPlane, reporter, transferLog, log, sessions, resolveDestination };
    const serverHostKeys = serverHostKeysFor(controlPlane);
    // The TLS cache settings are process-wide (mod_tls_shmcache's); a reload keeps them.
    backendTlsCache = trackTlsCacheCalls(controlPlane, 'the edge worker is closing', (request, outcome) => {
      if (request.op === 'backend-session-get')
        metrics.tlsCacheLookup('backend-sessions', lookupResult(outcome));
    });
    const backendSessions: SharedBackendSessions = {
      controlPlane: backendTlsCache.client,
      lookupTimeoutMs: tlsCacheSettingsFromConfig(config.tlsCache).lookupTimeoutMs,
      log: log.child({ component: 'backend-tls-sessions' }),
    };
    const tlsHook = listenerTlsHook({
      controlPlane,
      settings: tlsCacheSettingsFromConfig(config.tlsCache),
      log: log.child({ component: 'tls-cache' }),
      metrics,
    });
    const listenerLog = (file: string | undefined): Logger => {
      if (file === undefined) return log;
      let sink = listenerSinks.get(file);
      if (!sink) {
        sink = fileSink(file);
        listenerSinks.set(file, sink);
      }
      return log.withSink(sink);
    };
    // Every listener of this worker, as bound: a forward destination among them would be a loop.
    let boundAddresses: ListeningAddress[] = [];
    const loopGuard = new LoopGuard(() => boundAddresses);
    /** Builds the listeners of `next`, taking over the sockets of current ones on the same address. */
    const setUp = async (next: FtpxConfig, current: Listener[]) => {
      const pools = new Map(
        await Promise.all(
          next.pools.map(async (pool) => {
            const loaded = await loadPool(pool, log, backendSessions);
            // Registered and discovered backends pass the same address policy as forward destinations.
            loaded.destinations = {
              policy: new DestinationPolicy({
                allowNetworks: parseAllowNetworks(pool.allowDestinationNetworks ?? []),
                ownAddresses: () => loopGuard.ownAddresses(),
              }),
              resolve: resolveDestination,
            };
            return [pool.name, loaded] as const;
          }),
        ),
      );
      const classes = new ClientClasses(next.classes ?? []);
      const started: Listener[] = [];
      const addresses: ListeningAddress[] = [];
      /** New listener → the current one whose socket it took over. */
      const heirs = new Map<Listener, Listener>();
      try {
        for (const listenerConfig of next.listeners) {
          const pool = pools.get(listenerConfig.pool);
          if (!pool) throw new Error(`listener refers to unknown pool ${listenerConfig.pool}`);
          const hostPools = [pool, ...listenerConfig.hostPools.flatMap((name) => pools.get(name) ?? [])];
          const frontendTls = listenerConfig.tls
            ? await FrontendTls.load(
                listenerConfig.tls,
                `listeners[${listenerConfig.name ?? next.listeners.indexOf(listenerConfig)}].tls`,
                tlsHook,
              )
            : undefined;
          const sniPools = (listenerConfig.tls?.sniPools ?? []).flatMap(
            (entry) => pools.get(entry.pool) ?? [],
          );
          const services = {
            pool,
            hostPools,
            ...shared,
            log: listenerLog(listenerConfig.logFile),
            classes,
            loopGuard,
            ...(frontendTls ? { frontendTls } : {}),
            ...(sniPools.length > 0 ? { sniPools } : {}),
          };
          const listener: Listener =
            listenerConfig.protocol === 'sftp'
              ? new SftpListener(listenerConfig, { ...services, serverHostKeys })
              : new FtpListener(listenerConfig, services);
          const heirsOf = new Set(heirs.values());
          const previous = current.find((old) => old.bindKey === listener.bindKey && !heirsOf.has(old));
          if (previous) heirs.set(listener, previous);
          started.push(listener);
          addresses.push(await listener.start(previous?.takeServer()));
        }
      } catch (err) {
        // Sockets go back to the listeners they came from: the old configuration stays in force.
        for (const listener of started) {
          const previous = heirs.get(listener);
          const server = listener.takeServer();
          if (previous && server) await previous.start(server);
          else server?.close();
          await listener.close();
        }
        throw err;
      }
      return { pools, started, addresses };
    };
    const first = await setUp(config, []);
    listeners = first.started;
    currentPools = first.pools;
    boundAddresses = first.addresses;
    const active = healthConfigOf(config).active;
    if (scheduler && discovery && active.enabled) {
      // Backends listed in the config (the current one: a reload changes them) get active checks too.
      const listed = () =>
        [...currentPools.values()].map((pool) => ({
          pool: pool.config.name,
          backends: pool.global.map((backend) => backend.key),
          allowDestinationNetworks: pool.config.allowDestinationNetworks ?? [],
        }));
      scheduler.add(
        healthCheckJob(
          discovery,
          listed,
          activeCheckOptionsOf(config),
          healthSettingsOf(config),
          active.interval,
          log,
        ),
      );
    }
    ready = true;
    const worker: RunningEdgeWorker = {
      listeners: first.addresses,
      storeEndpoint,
      ...(config.controlPlane?.url !== undefined ? { controlPlaneUrl: config.controlPlane.url } : {}),
      sessions,
      metrics,
      pools: () => [...currentPools.values()],
      get ready() {
        return ready;
      },
      reload: async (next) => {
        const next_ = await setUp(next, listeners);
        for (const old of retired) {
          if (old.activeSessions > 0) continue;
          retired.delete(old);
          await old.close(); // its socket went to its heir: this releases what is left (TLS caches)
        }
        for (const old of listeners) {
          // Replaced listeners gave their socket away; removed ones stop listening. Sessions go on.
          old.takeServer()?.close();
          retired.add(old);
        }
        listeners = next_.started;
        currentPools = next_.pools;
        worker.listeners = next_.addresses;
        boundAddresses = next_.addresses;
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
        for (const listener of listeners) listener.drain();
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

/** controlPlane.ca: read once at start; a missing or non-PEM file stops the start with its name. */
function readControlPlaneCa(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`controlPlane.ca ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`controlPlane.ca ${file}: no PEM certificate in it`);
  }
  return pem;
}

/**
 * The control plane over HTTP (undici, retries with jitter), behind the last-known-good cache that
 * keeps sessions going for controlPlane.staleFor when it stops answering (control-plane/README.md).
 */
function createRemoteControlPlane(
  settings: ControlPlaneConfig & { url: string },
  log: Logger,
  metrics: EdgeMetrics,
): ClosableControlPlaneClient {
  const controlPlaneLog = log.child({ component: 'control-plane' });
  const http = createHttpControlPlane({
    url: settings.url,
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    ...(settings.ca !== undefined ? { ca: readControlPlaneCa(settings.ca) } : {}),
    ...(settings.signing
      ? {
          sign: createSigV4Signer({
            service: settings.signing.service,
            ...(settings.signing.region !== undefined ? { region: settings.signing.region } : {}),
          }),
        }
      : {}),
    timeoutMs: settings.timeout,
    retries: settings.retries,
    log: controlPlaneLog,
  });
  return createCachedControlPlane(instrumentControlPlane(http, metrics), {
    staleForMs: settings.staleFor,
    log: controlPlaneLog,
    onResolution: (result) => metrics.resolution(result),
  });
}
