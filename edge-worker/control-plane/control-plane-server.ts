import type { IdentityHookConfig } from '../../functions/core/auth/index.js';
import type { DiscoverySettings } from '../../functions/core/discovery/index.js';
import type { HttpHandler } from '../../functions/core/handler/index.js';
import type { ActiveCheckOptions, ListedBackends } from '../../functions/core/health/index.js';
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from '../../functions/core/health/index.js';
import type { Table } from '../../functions/core/store/index.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../functions/http-host/host.js';
import { type RunningStore, startStore } from '../embedded/store-startup.js';
import type { Logger } from '../log/logger.js';

export interface ControlPlaneServerOptions {
  listen: { host: string; port: number };
  /**
   * The embedded store (dynalite) keeps its data under `<dataDir>/dynamodb`; without a dataDir it
   * keeps it in memory. Ignored when storeEndpoint is given.
   */
  dataDir?: string;
  /** A DynamoDB-API endpoint (DynamoDB Local, LocalStack, AWS) to use instead of the embedded store. */
  storeEndpoint?: string;
  region?: string;
  tableName?: string;
  /** Required as `Authorization: Bearer` on the edge-facing routes when set. */
  edgeToken?: string;
  /** HTTPS with this certificate chain and key (PEM); plain HTTP without. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Builds the registry API's handler on the table, when the registry is to be served too. */
  registry?: (table: Table) => HttpHandler;
  /** How long a worker's connection lease lives without a heartbeat (30 s by default). */
  leaseTtlMs?: number;
  /** The external identity hook proxy authentication asks, when users live elsewhere. */
  identityHook?: IdentityHookConfig;
  /** DNS discovery settings (resolvers, TTL bounds) and how often its scheduled refresh runs here. */
  discovery?: Partial<DiscoverySettings>;
  discoveryRefreshMs?: number;
  health?: HealthSettings;
  /** Active health checks on a timer here (the embedded control plane has no EventBridge). */
  activeChecks?: {
    options: ActiveCheckOptions;
    intervalMs: number;
    /** Backends the edge workers' config lists (cluster primary), checked besides the registered ones. */
    listed?: () => ListedBackends[];
  };
  log: Logger;
}

export interface RunningControlPlaneServer {
  /** The base URL to give edge workers (`--control-plane-url`). */
  url: string;
  /** The DynamoDB-API endpoint in use (the embedded store's, or the given one). */
  storeEndpoint: string;
  /**
   * The control plane's own table client: writes through it are seen by its read cache at once,
   * and on the embedded store they do not count as another user's (store-server.ts).
   */
  table: Table;
  close(): Promise<void>;
}

/**
 * `ftpx control-plane serve`: the store (embedded, or a given endpoint), the table, and every
 * function on one HTTP port. With the embedded store, expired items are swept as the embedded
 * edge worker does (neither dynalite nor DynamoDB deletes them on time).
 */
export async function startControlPlaneServer(
  options: ControlPlaneServerOptions,
): Promise<RunningControlPlaneServer> {
  const { log } = options;
  let store: RunningStore | undefined;
  let host: ControlPlaneHost | undefined;
  const close = async () => {
    await store?.stopBackground();
    await host?.close();
    await store?.close();
  };
  try {
    store = await startStore({
      store:
        options.storeEndpoint !== undefined
          ? { embedded: false, endpoint: options.storeEndpoint }
          : { embedded: true, ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) },
      region: options.region ?? 'us-east-1',
      tableName: options.tableName ?? 'ftpx',
      discovery: options.discovery ?? {},
      discoveryRefreshMs: options.discoveryRefreshMs ?? 5000,
      log,
    });
    const { table, discovery } = store;
    const health = options.health ?? DEFAULT_HEALTH_SETTINGS;
    if (options.activeChecks) {
      const { options: checks, intervalMs, listed = () => [] } = options.activeChecks;
      store.scheduleActiveChecks({ options: checks, health, intervalMs, listed });
    }
    host = await startControlPlaneHost({
      listen: options.listen,
      table,
      log,
      discovery,
      health,
      ...(options.edgeToken !== undefined ? { edgeToken: options.edgeToken } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.registry ? { registry: options.registry(table) } : {}),
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      ...(options.identityHook ? { identityHook: options.identityHook } : {}),
    });
    return { url: host.url, storeEndpoint: store.endpoint, table, close };
  } catch (err) {
    await close();
    throw err;
  }
}
