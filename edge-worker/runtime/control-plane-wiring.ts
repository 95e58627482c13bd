import { readFileSync } from 'node:fs';
import type { ListedBackends } from '../../functions/core/health/index.js';
import type { Table } from '../../functions/core/store/index.js';
import type { EdgeMetrics } from '../admin/edge-metrics.js';
import { instrumentControlPlane } from '../admin/instrumented-control-plane.js';
import { dnsConfigOf, healthConfigOf } from '../config/discovery-health.js';
import type { ControlPlaneConfig, FtpxConfig } from '../config/schema.js';
import { createCachedControlPlane } from '../control-plane/cached-control-plane.js';
import type {
  ClosableControlPlaneClient,
  ControlPlaneClient,
} from '../control-plane/control-plane-client.js';
import {
  activeCheckOptionsOf,
  discoverySettingsOf,
  healthSettingsOf,
} from '../embedded/control-plane-settings.js';
import type { RunningStore } from '../embedded/store-startup.js';
import type { Logger } from '../log/logger.js';
import type { Pool } from '../reverse/pool.js';

/** The control plane an edge worker asks, and the store behind it when it runs in this process. */
export interface WiredControlPlane {
  controlPlane: ControlPlaneClient;
  /** The in-process control plane's store; undefined when the control plane is remote (controlPlane.url). */
  store?: RunningStore;
  /**
   * With the in-process control plane and health.active enabled, active checks of the pools' listed
   * backends besides the registered ones (the embedded control plane has no EventBridge).
   */
  checkListedBackends(pools: () => Pool[]): void;
  /** Stops the store's sweeper and scheduled functions: first thing on close. */
  stopBackground(): Promise<void>;
  /** Closes the remote control plane's connections, or the store: once no session uses them. */
  close(): Promise<void>;
}

/**
 * AuthUserFile / AuthGroupFile of proxy-authenticating pools become their proxy users at start (in the
 * store the in-process control plane reads; with a remote control plane, import there instead).
 */
export async function importAuthUserFiles(config: FtpxConfig, table: Table, log: Logger): Promise<void> {
  for (const pool of config.pools) {
    if (!pool.authUserFile) continue;
    const { importAuthUserFile } = await import('../../functions/core/auth/index.js');
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

/** The in-process control plane on the store this process opens and owns. */
export interface OwnedControlPlane {
  controlPlane: ControlPlaneClient;
  store: RunningStore;
}

/**
 * Opens the store (embedded dynalite, or the configured DynamoDB-API endpoint) and the in-process
 * control plane on it, with the config's AuthUserFiles imported: an edge worker without
 * controlPlane.url, and the cluster primary for its workers (over IPC). A failed start closes the store.
 */
export async function openInProcessControlPlane(
  config: FtpxConfig,
  log: Logger,
  options: { checkResponses?: boolean } = {},
): Promise<OwnedControlPlane> {
  // The store and the in-process control plane load only here: workers of `--workers N` and edge
  // workers with controlPlane.url never need them (nor the AWS SDK and dynalite behind them).
  const [{ startStore }, { createInProcessControlPlane }] = await Promise.all([
    import('../embedded/store-startup.js'),
    import('../control-plane/in-process-transport.js'),
  ]);
  const store = await startStore({
    store:
      config.store.endpoint === 'embedded'
        ? { embedded: true, dataDir: config.dataDir }
        : { embedded: false, endpoint: config.store.endpoint },
    region: config.store.region,
    tableName: config.store.table,
    discovery: discoverySettingsOf(config),
    discoveryRefreshMs: dnsConfigOf(config).refreshInterval,
    log,
  });
  try {
    const controlPlane = createInProcessControlPlane(store.table, {
      ...(config.identityHook ? { identityHook: config.identityHook } : {}),
      discovery: store.discovery,
      health: healthSettingsOf(config),
      ...options,
    });
    await importAuthUserFiles(config, store.table, log);
    return { controlPlane, store };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * With health.active enabled, active checks of the pools' listed backends too, besides the
 * registered ones (the embedded control plane has no EventBridge). `pools` is read at every round,
 * so a reload's pools are checked from the next one.
 */
export function checkListedBackends(config: FtpxConfig, store: RunningStore, pools: () => Pool[]): void {
  const active = healthConfigOf(config).active;
  if (!active.enabled) return;
  store.scheduleActiveChecks({
    listed: () => pools().map(listedBackendsOf),
    options: activeCheckOptionsOf(config),
    health: healthSettingsOf(config),
    intervalMs: active.interval,
  });
}

function listedBackendsOf(pool: Pool): ListedBackends {
  return {
    pool: pool.config.name,
    backends: pool.global.map((backend) => backend.key),
    allowDestinationNetworks: pool.config.allowDestinationNetworks ?? [],
  };
}

/** A control plane whose store another process owns: nothing to check or stop here, only to close. */
function ownedElsewhere(controlPlane: ClosableControlPlaneClient): WiredControlPlane {
  return {
    controlPlane,
    checkListedBackends: () => {},
    stopBackground: async () => {},
    close: () => controlPlane.close(),
  };
}

/**
 * The edge worker's control plane: `given` (a cluster worker's, over IPC to the primary), else over
 * HTTP with controlPlane.url (it owns the store, so none is opened here), else in this process on
 * the store (embedded dynalite, or the configured DynamoDB-API endpoint).
 */
export async function wireControlPlane(
  config: FtpxConfig,
  log: Logger,
  metrics: EdgeMetrics,
  given?: ClosableControlPlaneClient,
): Promise<WiredControlPlane> {
  if (given) {
    log.info("control plane is the cluster primary's, over IPC");
    return ownedElsewhere(instrumentControlPlane(given, metrics));
  }
  const remoteUrl = config.controlPlane?.url;
  if (config.controlPlane && remoteUrl !== undefined) {
    const controlPlane = await createRemoteControlPlane(
      { ...config.controlPlane, url: remoteUrl },
      log,
      metrics,
    );
    log.info('control plane is remote', { url: remoteUrl });
    return ownedElsewhere(controlPlane);
  }
  const { controlPlane: inProcess, store } = await openInProcessControlPlane(config, log);
  const controlPlane = instrumentControlPlane(inProcess, metrics);
  return {
    controlPlane,
    store,
    checkListedBackends: (pools) => checkListedBackends(config, store, pools),
    stopBackground: () => store.stopBackground(),
    close: async () => {
      await controlPlane.close();
      await store.close();
    },
  };
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
 * The control plane over HTTP (node:http, retries with jitter), behind the last-known-good cache that
 * keeps sessions going for controlPlane.staleFor when it stops answering (control-plane/README.md).
 */
async function createRemoteControlPlane(
  settings: ControlPlaneConfig & { url: string },
  log: Logger,
  metrics: EdgeMetrics,
): Promise<ClosableControlPlaneClient> {
  const controlPlaneLog = log.child({ component: 'control-plane' });
  // The HTTP client loads only for a remote control plane.
  const { createHttpControlPlane } = await import('../control-plane/http-transport.js');
  const http = createHttpControlPlane({
    url: settings.url,
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    ...(settings.ca !== undefined ? { ca: readControlPlaneCa(settings.ca) } : {}),
    ...(settings.signing
      ? {
          // The SigV4 signer (AWS SDK credentials) loads only for a signed control plane.
          sign: (await import('../aws/request-signer.js')).createSigV4Signer({
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
