import type { DiscoverySettings } from '../../functions/core/discovery/index.js';
import { createDiscoveryContext, type DiscoveryContext } from '../../functions/core/discovery/index.js';
import type {
  ActiveCheckOptions,
  HealthSettings,
  ListedBackends,
} from '../../functions/core/health/index.js';
import {
  createDynamoDbClient,
  DEFAULT_READ_CACHE_TTL_MS,
  enableReadCache,
  ensureTable,
  reserveCursorBlocks,
  sweepExpired,
  type Table,
} from '../../functions/core/store/index.js';
import type { Logger } from '../log/logger.js';
import { discoveryRefreshJob, healthCheckJob, Scheduler } from './scheduled-functions.js';
import type { EmbeddedStoreServer } from './store-server.js';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * RoundRobin values one store write reserves for the embedded store's own control plane while it is
 * the store's one user: the rotation stays exact with one write per 64 logins (bench/README.md,
 * "Login path"). Another process using the store (`store.endpoint: unix:...`) turns it off.
 */
const EMBEDDED_CURSOR_BLOCK = 64;

export interface StoreStartOptions {
  /**
   * Where the store is: the embedded one (dynalite, its data under `<dataDir>/dynamodb`, in memory
   * without a dataDir), or a DynamoDB-API endpoint (DynamoDB Local, LocalStack, AWS).
   */
  store: { embedded: true; dataDir?: string } | { embedded: false; endpoint: string };
  region: string;
  tableName: string;
  /** DNS discovery settings (resolvers, TTL bounds) and how often its scheduled refresh runs. */
  discovery: Partial<DiscoverySettings>;
  discoveryRefreshMs: number;
  log: Logger;
}

/** What both composition roots add to the scheduler once they know their listed backends. */
export interface ActiveChecks {
  options: ActiveCheckOptions;
  health: HealthSettings;
  intervalMs: number;
  /** The backends the current config lists (a reload changes them), checked besides the registered ones. */
  listed: () => ListedBackends[];
}

export interface RunningStore {
  table: Table;
  /** The DynamoDB-API endpoint in use (the embedded store's, or the given one). */
  endpoint: string;
  discovery: DiscoveryContext;
  /** Active health checks on a timer here (the embedded control plane has no EventBridge). */
  scheduleActiveChecks(checks: ActiveChecks): void;
  /**
   * Stops the sweeper and the scheduled functions, waiting for runs in flight: first thing on close,
   * so that nothing new starts while the users of the store wind down.
   */
  stopBackground(): Promise<void>;
  /** Closes the client and the embedded store: last thing on close, once nothing uses the table. */
  close(): Promise<void>;
}

/**
 * The in-process control plane's store, as `serve` (without controlPlane.url) and `control-plane
 * serve` both open it: the embedded store or the given endpoint, the table (created when missing),
 * the discovery context, the scheduled functions that EventBridge would run in AWS, and with the
 * embedded store a sweeper of expired items (neither dynalite nor DynamoDB deletes them on time; in
 * AWS, the table's TTL does it). A failed start closes what it opened.
 */
export async function startStore(options: StoreStartOptions): Promise<RunningStore> {
  const { log } = options;
  let embedded: EmbeddedStoreServer | undefined;
  let table: Table | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const scheduler = new Scheduler(log);
  const stopBackground = async () => {
    clearInterval(sweeper);
    await scheduler.stop();
  };
  const close = async () => {
    await stopBackground();
    table?.client.destroy();
    await embedded?.close();
  };
  try {
    let endpoint: string;
    if (options.store.embedded) {
      // dynalite and LevelDB load only for the embedded store, not for a DynamoDB endpoint.
      const { startEmbeddedStore } = await import('./store-server.js');
      embedded = await startEmbeddedStore(options.store.dataDir);
      endpoint = embedded.endpoint;
    } else {
      endpoint = options.store.endpoint;
    }
    const store: Table = {
      client: createDynamoDbClient({ endpoint, region: options.region }),
      name: options.tableName,
    };
    // The reads every login repeats are reused for up to a second; this process's own writes
    // (registry API, session events, checks, sweeper) are seen at once (bench/README.md, "Login path").
    enableReadCache(store.client, { ttlMs: DEFAULT_READ_CACHE_TTL_MS });
    if (embedded) {
      const owned = embedded;
      owned.markOwnRequests(store.client);
      reserveCursorBlocks(store.client, EMBEDDED_CURSOR_BLOCK, () => !owned.sharedSinceStart);
    }
    table = store;
    const created = await ensureTable(store);
    log.info('store ready', { endpoint, table: store.name, table_state: created });
    if (embedded) {
      sweeper = setInterval(() => {
        sweepExpired(store, Date.now()).catch((err: unknown) =>
          log.warn('sweep of expired items failed', { error: err }),
        );
      }, SWEEP_INTERVAL_MS);
      sweeper.unref();
    }
    const discovery = createDiscoveryContext(store, options.discovery);
    discovery.onBackgroundError = (source, err) =>
      log.warn('discovery refresh failed', { source, error: err });
    scheduler.add(discoveryRefreshJob(discovery, options.discoveryRefreshMs, log));
    return {
      table: store,
      endpoint,
      discovery,
      scheduleActiveChecks: (checks) =>
        scheduler.add(
          healthCheckJob(discovery, checks.listed, checks.options, checks.health, checks.intervalMs, log),
        ),
      stopBackground,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
