import { mkdir } from 'node:fs/promises';
import { importAuthUserFile } from '../../functions/shared/auth/auth-user-file.js';
import { createDynamoDbClient } from '../../functions/shared/store/dynamodb-client.js';
import { sweepExpired } from '../../functions/shared/store/sweep-expired.js';
import { ensureTable, type Table } from '../../functions/shared/store/table.js';
import type { ControlPlaneConfig, FtpxConfig } from '../config/schema.js';
import { createCachedControlPlane } from '../control-plane/cached-control-plane.js';
import type {
  ClosableControlPlaneClient,
  ControlPlaneClient,
} from '../control-plane/control-plane-client.js';
import { createHttpControlPlane } from '../control-plane/http-transport.js';
import { createInProcessControlPlane } from '../control-plane/in-process-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../embedded/store-server.js';
import { FtpListener, type ListeningAddress } from '../listeners/ftp-listener.js';
import type { Logger } from '../log/logger.js';
import { TransferLog } from '../log/transfer-log.js';
import { ConnectionReporter } from '../reverse/connection-reporter.js';
import { loadPool } from '../reverse/pool.js';
import { FrontendTls } from '../tls/frontend-tls-context.js';
import { attachLocalSessionCache } from '../tls/local-session-cache.js';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * AuthUserFile / AuthGroupFile of proxy-authenticating pools become their proxy users at start (in the
 * store the in-process control plane reads; with a remote control plane, import there instead).
 */
async function importAuthUserFiles(config: FtpxConfig, table: Table, log: Logger): Promise<void> {
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
  close(): Promise<void>;
}

/**
 * Starts an edge worker with an in-process control plane: the store (embedded dynalite, or the
 * configured DynamoDB-API endpoint), the table, then one listener per configured listener. With
 * controlPlane.url, the control plane is called over HTTP instead and no store is opened here.
 */
export async function startEdgeWorker(config: FtpxConfig, log: Logger): Promise<RunningEdgeWorker> {
  let embedded: EmbeddedStoreServer | undefined;
  const listeners: FtpListener[] = [];
  let table: Table | undefined;
  let reporter: ConnectionReporter | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let controlPlane: ControlPlaneClient | undefined;
  const transferLog = config.transferLog
    ? new TransferLog(config.transferLog, (err) => log.error('cannot write the transfer log', { error: err }))
    : undefined;
  const close = async () => {
    clearInterval(sweeper);
    reporter?.stop();
    await Promise.all(listeners.map((listener) => listener.close()));
    await (controlPlane as Partial<ClosableControlPlaneClient> | undefined)?.close?.();
    await transferLog?.close();
    table?.client.destroy();
    await embedded?.close();
  };
  try {
    let storeEndpoint: string | undefined;
    const remoteUrl = config.controlPlane?.url;
    if (config.controlPlane && remoteUrl !== undefined) {
      // The control plane is remote: it owns the store, so none is opened here.
      controlPlane = createRemoteControlPlane({ ...config.controlPlane, url: remoteUrl }, log);
      log.info('control plane is remote', { url: remoteUrl });
    } else {
      let endpoint: string;
      if (config.store.endpoint === 'embedded') {
        await mkdir(config.dataDir, { recursive: true, mode: 0o755 });
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
      controlPlane = createInProcessControlPlane(
        table,
        config.identityHook ? { identityHook: config.identityHook } : {},
      );
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
    reporter = new ConnectionReporter(controlPlane, log);
    const pools = new Map(
      await Promise.all(config.pools.map(async (pool) => [pool.name, await loadPool(pool, log)] as const)),
    );
    const addresses: ListeningAddress[] = [];
    for (const listenerConfig of config.listeners) {
      const pool = pools.get(listenerConfig.pool);
      if (!pool) throw new Error(`listener refers to unknown pool ${listenerConfig.pool}`);
      const hostPools = [pool, ...listenerConfig.hostPools.flatMap((name) => pools.get(name) ?? [])];
      const frontendTls = listenerConfig.tls
        ? await FrontendTls.load(
            listenerConfig.tls,
            `listeners[${listenerConfig.name ?? listeners.length}].tls`,
            // MERGE (issue 6 parts 3-4): the shared TLS caches attach here, replacing the local cache:
            // (server, certificate) => attachFrontendTlsCaches(server, certificate)
            attachLocalSessionCache,
          )
        : undefined;
      const sniPools = (listenerConfig.tls?.sniPools ?? []).flatMap((entry) => pools.get(entry.pool) ?? []);
      const listener = new FtpListener(listenerConfig, {
        ...(frontendTls ? { frontendTls } : {}),
        ...(sniPools.length > 0 ? { sniPools } : {}),
        pool,
        hostPools,
        controlPlane,
        reporter,
        transferLog,
        log,
      });
      listeners.push(listener);
      addresses.push(await listener.start());
    }
    return {
      listeners: addresses,
      storeEndpoint,
      ...(config.controlPlane?.url !== undefined ? { controlPlaneUrl: config.controlPlane.url } : {}),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The control plane over HTTP (undici, retries with jitter), behind the last-known-good cache that
 * keeps sessions going for controlPlane.staleFor when it stops answering (control-plane/README.md).
 */
function createRemoteControlPlane(
  settings: ControlPlaneConfig & { url: string },
  log: Logger,
): ClosableControlPlaneClient {
  const controlPlaneLog = log.child({ component: 'control-plane' });
  const http = createHttpControlPlane({
    url: settings.url,
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    timeoutMs: settings.timeout,
    retries: settings.retries,
    log: controlPlaneLog,
  });
  return createCachedControlPlane(http, { staleForMs: settings.staleFor, log: controlPlaneLog });
}
