import { DestinationPolicy, parseAllowNetworks } from '../../functions/core/net/index.js';
import type { SessionRegistry } from '../admin/session-registry.js';
import type { FtpxConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { ClientClasses } from '../forward/client-class.js';
import { LoopGuard } from '../forward/loop-guard.js';
import type { AbuseDefences } from '../limits/abuse-defences.js';
import { FtpListener, type ListeningAddress } from '../listeners/ftp-listener.js';
import type { SftpListener } from '../listeners/sftp-listener.js';
import { fileSink, type Logger, type LogSink } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import type { destinationResolver } from '../net/destination-resolver.js';
import type { ConnectionReporter } from '../reverse/connection-reporter.js';
import { loadPool, type Pool } from '../reverse/pool.js';
import { PoolRules } from '../reverse/pool-rules.js';
import type { serverHostKeysFor } from '../sftp/server-host-keys.js';
import type { SharedBackendSessions } from '../tls/backend-tls-sessions.js';
import type { listenerTlsHook } from '../tls/listener-tls-hook.js';

/** A listener of either protocol: both hand their socket over on reload and drain alike. */
type Listener = FtpListener | SftpListener;

/** What every listener of the worker shares, whatever the configuration (a reload keeps them). */
export interface ListenerSetServices {
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  transferLog: TransferLog | undefined;
  log: Logger;
  sessions: SessionRegistry;
  /** Names the operator did not write (forward destinations, registered backends) resolve here. */
  resolveDestination: ReturnType<typeof destinationResolver>;
  serverHostKeys: ReturnType<typeof serverHostKeysFor>;
  /** Backend FTPS session sharing through the control plane. */
  backendSessions: SharedBackendSessions;
  /** The frontend TLS session cache hook (process-wide, as mod_tls_shmcache's). */
  tlsHook: ReturnType<typeof listenerTlsHook>;
  /** Connection limits and bans (edge-worker/limits/); none: no limits. */
  defences?: AbuseDefences;
}

/**
 * The worker's listeners and their pools: set up from a configuration, handed over on reload
 * (listeners on the same address keep their socket, running sessions keep the settings they started
 * with) and drained on SIGTERM.
 */
export class ListenerSet {
  private listeners: Listener[] = [];
  /** Listeners a reload replaced or removed: no longer accepting, their sessions still running. */
  private readonly retired = new Set<Listener>();
  private pools = new Map<string, Pool>();
  /** Every listener of this worker, as bound: a forward destination among them would be a loop. */
  private bound: ListeningAddress[] = [];
  private readonly loopGuard = new LoopGuard(() => this.bound);
  /** Per-listener ProxyLog files, kept across reloads (a file is opened once). */
  private readonly sinks = new Map<string, LogSink>();

  constructor(private readonly services: ListenerSetServices) {}

  /** The addresses the listeners of the configuration in force are bound to. */
  get addresses(): ListeningAddress[] {
    return this.bound;
  }

  /** The pools new sessions use now (they change on reload). */
  currentPools(): Pool[] {
    return [...this.pools.values()];
  }

  /** Starts the listeners of the first configuration. */
  async start(config: FtpxConfig): Promise<ListeningAddress[]> {
    const first = await this.setUp(config);
    this.adopt(first);
    return first.addresses;
  }

  /**
   * Starts the listeners of `next`; the current ones on the same address hand their socket over,
   * removed ones stop listening. When `next` cannot be set up, this throws and the current
   * listeners stay in force.
   */
  async reload(next: FtpxConfig): Promise<ListeningAddress[]> {
    const set = await this.setUp(next);
    for (const old of this.retired) {
      if (old.activeSessions > 0) continue;
      this.retired.delete(old);
      await old.close(); // its socket went to its heir: this releases what is left (TLS caches)
    }
    for (const old of this.listeners) {
      // Replaced listeners gave their socket away; removed ones stop listening. Sessions go on.
      old.takeServer()?.close();
      this.retired.add(old);
    }
    this.adopt(set);
    return set.addresses;
  }

  /** SIGTERM: new clients get 421, running sessions go on. */
  drain(): void {
    for (const listener of this.listeners) listener.drain();
  }

  /** Closes every listener, the retired ones too. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners, ...this.retired].map((listener) => listener.close()));
  }

  /** Closes the ProxyLog files: after the listeners, once no session writes to them. */
  async closeLogs(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((sink) => sink.close?.()));
  }

  private adopt(set: { pools: Map<string, Pool>; started: Listener[]; addresses: ListeningAddress[] }): void {
    this.listeners = set.started;
    this.pools = set.pools;
    this.bound = set.addresses;
  }

  private listenerLog(file: string | undefined): Logger {
    const { log } = this.services;
    if (file === undefined) return log;
    let sink = this.sinks.get(file);
    if (!sink) {
      sink = fileSink(file);
      this.sinks.set(file, sink);
    }
    return log.withSink(sink);
  }

  private async loadPools(next: FtpxConfig): Promise<Map<string, Pool>> {
    const { log, backendSessions, resolveDestination } = this.services;
    return new Map(
      await Promise.all(
        next.pools.map(async (pool) => {
          const loaded = await loadPool(pool, log, backendSessions);
          // Registered and discovered backends pass the same address policy as forward destinations.
          loaded.destinations = {
            policy: new DestinationPolicy({
              allowNetworks: parseAllowNetworks(pool.allowDestinationNetworks ?? []),
              ownAddresses: () => this.loopGuard.ownAddresses(),
            }),
            resolve: resolveDestination,
          };
          return [pool.name, loaded] as const;
        }),
      ),
    );
  }

  /** Builds the listeners of `next`, taking over the sockets of current ones on the same address. */
  private async setUp(next: FtpxConfig) {
    const { controlPlane, reporter, transferLog, log, sessions, resolveDestination } = this.services;
    const { serverHostKeys, tlsHook } = this.services;
    const shared = { controlPlane, reporter, transferLog, log, sessions, resolveDestination };
    const current = this.listeners;
    const pools = await this.loadPools(next);
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
          ? // The TLS listener code loads only for TLS listeners.
            await (await import('../tls/frontend-tls-context.js')).FrontendTls.load(
              listenerConfig.tls,
              `listeners[${listenerConfig.name ?? next.listeners.indexOf(listenerConfig)}].tls`,
              tlsHook,
            )
          : undefined;
        const sniPools = (listenerConfig.tls?.sniPools ?? []).flatMap((entry) => pools.get(entry.pool) ?? []);
        const poolRules =
          listenerConfig.poolRules && listenerConfig.poolRules.length > 0
            ? new PoolRules(listenerConfig.poolRules, pools, classes)
            : undefined;
        const services = {
          pool,
          hostPools,
          ...(poolRules ? { poolRules } : {}),
          ...shared,
          log: this.listenerLog(listenerConfig.logFile),
          classes,
          loopGuard: this.loopGuard,
          ...(this.services.defences
            ? {
                guard: this.services.defences.guardFor(
                  listenerConfig.connections,
                  listenerConfig.name ?? `${listenerConfig.pool}@${listenerConfig.port}`,
                  (address) => classes.classify(address)?.name,
                ),
              }
            : {}),
          ...(frontendTls ? { frontendTls } : {}),
          ...(sniPools.length > 0 ? { sniPools } : {}),
        };
        const listener: Listener =
          listenerConfig.protocol === 'sftp'
            ? // ssh2 and the SSH session code load only when an SFTP listener is configured.
              new (await import('../listeners/sftp-listener.js')).SftpListener(listenerConfig, {
                ...services,
                serverHostKeys,
              })
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
  }
}
