import type { Server, Socket } from 'node:net';
import type { Cidr } from '../../functions/core/net/index.js';
import type { SessionRegistry } from '../admin/session-registry.js';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { ClientClasses } from '../forward/client-class.js';
import { ForwardFtpSession } from '../forward/forward-session.js';
import type { LoopGuard } from '../forward/loop-guard.js';
import { encodeReply, localReply } from '../ftp/control/reply.js';
import { PortRange } from '../ftp/data/port-range.js';
import { CommandLimits } from '../ftp/session/command-limits.js';
import { type Admission, type ConnectionGuard, isRefused } from '../limits/connection-guard.js';
import { refuseSocket } from '../limits/refuse-socket.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import type { ResolveAddresses } from '../net/destination-resolver.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import type { ConnectionReporter } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import type { PoolRules } from '../reverse/pool-rules.js';
import { ReverseFtpSession } from '../reverse/reverse-session.js';
import type { FrontendTls } from '../tls/frontend-tls-context.js';
import { identifyClient } from './client-identity.js';
import { foreignAddressPolicy } from './foreign-address.js';
import { handOver, listenOn, trustedNetworksOf } from './listening-socket.js';
import { resolveMasqueradeAddress } from './masquerade-address.js';

/** What a listener's sessions share with the rest of the worker. */
export interface ListenerServices {
  pool: Pool;
  /** Pools HOST may select, the listener's own first. */
  hostPools: Pool[];
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  transferLog: TransferLog | undefined;
  log: Logger;
  /** `<Class>` sections: who may use a forward pool. */
  classes: ClientClasses;
  /** Forward pools: refuses destinations that are this worker's own listeners. */
  loopGuard: LoopGuard;
  /**
   * Resolves names the operator did not write (forward destinations): the YAML's dns.servers, else
   * the system's resolver.
   */
  resolveDestination?: ResolveAddresses;
  /** Every session of the worker, for the admin endpoint, the metrics and the drain. */
  sessions?: SessionRegistry;
  /** The listener's FTPS (its `tls` block, loaded); plain FTP when absent. */
  frontendTls?: FrontendTls;
  /** Pools the TLS SNI name may choose (tls.sniPools). */
  sniPools?: Pool[];
  /** The listener's poolRules (class, network, user, group), when it has any. */
  poolRules?: PoolRules;
  /** This listener's connection limits and bans (edge-worker/limits/); none: no limits. */
  guard?: ConnectionGuard;
}

/** What a draining listener tells clients that connect (RFC 959: 421 service not available). */
export const DRAINING_REPLY = 'Service not available, ftpx is shutting down; try again later.';

export interface ListeningAddress {
  name: string;
  address: string;
  port: number;
  pool: string;
}

/** What the listener needs of a session, whichever the role. */
interface FtpSession {
  readonly id: string;
  run(): Promise<void>;
  close(reason?: string): void;
}

/**
 * One FTP listener: accepts clients and runs a session for each, reverse or forward by its pool's
 * role. A session's failure ends that session only; the listener and every other session go on.
 */
export class FtpListener {
  private readonly sessions = new Set<FtpSession>();
  private readonly log: Logger;
  private readonly limits: CommandLimits;
  private server: Server | undefined;
  private readonly portRange: PortRange | undefined;
  private readonly allowsForeignAddress: (host: string) => boolean;
  private masqueradeIPv4: string | undefined;
  private readonly trustedNetworks: Cidr[] | undefined;
  private draining = false;

  constructor(
    private readonly config: ListenerConfig,
    private readonly services: ListenerServices,
  ) {
    this.log = services.log;
    this.limits = new CommandLimits(config.limits, (address) => services.classes.classify(address)?.name);
    this.portRange = config.passivePorts
      ? new PortRange(config.passivePorts.min, config.passivePorts.max)
      : undefined;
    this.allowsForeignAddress = foreignAddressPolicy(config.allowForeignAddress);
    this.trustedNetworks = trustedNetworksOf(config);
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** The address the listener is for, as a reload compares them. */
  get bindKey(): string {
    return `${this.config.address}:${this.config.port}`;
  }

  /**
   * Starts listening, or, on a reload, takes over the listening socket of the listener this one
   * replaces (see takeServer): clients keep connecting to the same socket without a gap.
   */
  async start(inherited?: Server): Promise<ListeningAddress> {
    // Held at once, so that a failure below can still hand it back (takeServer).
    if (inherited) this.server = inherited;
    this.masqueradeIPv4 = await resolveMasqueradeAddress(this.config.masqueradeAddress);
    const { server, port } = await listenOn(
      this.config,
      inherited,
      (socket) => this.accept(socket),
      this.log,
    );
    this.server = server;
    const listening = {
      name: this.config.name ?? this.config.pool,
      address: this.config.address,
      port,
      pool: this.services.pool.config.name,
    };
    this.log.info('listening', listening);
    if (this.services.pool.config.forward?.method === 'user@sni' && !this.services.frontendTls) {
      this.log.warn(
        'ProxyForwardMethod user@sni needs FTPS (the SNI name is the destination), and this listener has no tls block: every login is refused',
        { pool: listening.pool },
      );
    }
    return listening;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    this.log.trace('proxy.conn', 5, 'connection accepted', {
      peer: `${socket.remoteAddress}:${socket.remotePort}`,
    });
    if (this.draining) {
      // An implicit-FTPS client expects a TLS handshake, not a plain reply: it just sees the close.
      if (this.services.frontendTls?.config.mode === 'implicit') socket.destroy();
      else socket.end(encodeReply(localReply(421, DRAINING_REPLY)));
      return;
    }
    this.identifyClient(socket).then(
      async (client) => {
        if (!client) return;
        const implicit = this.services.frontendTls;
        // Limits and bans before anything else: a refused client costs no TLS handshake and no backend.
        const admission = await this.admit(socket, client, implicit?.config.mode === 'implicit');
        if (admission === false) return;
        if (implicit?.config.mode !== 'implicit') {
          this.startSession(socket, client, admission);
          return;
        }
        // Implicit FTPS: TLS from the first byte. Anything else (plain FTP, a scanner's garbage)
        // fails the handshake and closes this connection only. Until it ends, the connection holds
        // a pre-login place (limits/connection-guard.ts).
        const secured = await implicit.accept(socket).catch((err: unknown) => {
          this.log.info('implicit TLS handshake failed', {
            client: `${client.address}:${client.port}`,
            reason: err instanceof Error ? err.message : String(err),
          });
          admission?.event('TLSHandshake');
          admission?.end();
          socket.destroy();
          return undefined;
        });
        if (secured) this.startSession(secured, client, admission);
      },
      (err: unknown) => {
        this.log.error('could not identify the client', { error: err });
        socket.destroy();
      },
    );
  }

  /**
   * Hands the listening socket to the listener that replaces this one (a reload): this one stops
   * accepting, its sessions go on until they end.
   */
  takeServer(): Server | undefined {
    const server = this.server;
    this.server = undefined;
    return handOver(server);
  }

  /** From now on, clients that connect are told 421 and disconnected; sessions go on. */
  drain(): void {
    this.draining = true;
  }

  /**
   * The listener's limits and bans (limits/connection-guard.ts): the client's admission, undefined
   * when the listener has none, false when it was refused (told with a reply where the protocol
   * allows one, then closed).
   */
  private async admit(
    socket: Socket,
    client: ProxyAddress,
    implicitTls: boolean,
  ): Promise<Admission | undefined | false> {
    const guard = this.services.guard;
    if (!guard) return undefined;
    const result = await guard.admit(client.address).catch((err: unknown) => {
      // A bug in the limits must not take the listener down; the client is let in.
      this.log.error('connection limits failed; client admitted', { error: err });
      return undefined;
    });
    if (result === undefined || !isRefused(result)) {
      if (result && (socket.destroyed || this.draining)) {
        result.end();
        return false;
      }
      return result;
    }
    // An implicit-FTPS client expects a TLS handshake, not a plain reply: it just sees the close.
    refuseSocket(
      socket,
      implicitTls || !result.refusal
        ? undefined
        : encodeReply(localReply(result.refusal.code, result.refusal.text)),
    );
    return false;
  }

  private identifyClient(socket: Socket): Promise<ProxyAddress | undefined> {
    return identifyClient(socket, this.config.proxyProtocol, this.trustedNetworks, this.log);
  }

  private startSession(socket: Socket, client: ProxyAddress, admission?: Admission): void {
    const { pool } = this.services;
    let session: FtpSession | undefined;
    const tracked = this.services.sessions?.register({
      protocol: 'ftp',
      role: pool.config.role,
      pool: pool.config.name,
      listener: this.config.name ?? this.config.pool,
      client: `${client.address}:${client.port}`,
      close: (reason) => session?.close(reason),
    });
    // What sessions of either role get from their listener.
    const common = {
      listener: this.config,
      limits: this.limits,
      controlPlane: this.services.controlPlane,
      clientAddress: client.address,
      clientPort: client.port,
      portRange: this.portRange,
      masqueradeIPv4: this.masqueradeIPv4,
      allowsForeignAddress: this.allowsForeignAddress,
      transferLog: this.services.transferLog,
      log: this.log.channel('proxy.ftp.sess'),
      ...(tracked ? { tracked } : {}),
      ...(admission ? { guard: admission } : {}),
    };
    session =
      pool.config.role === 'forward'
        ? new ForwardFtpSession(socket, {
            ...common,
            pool: pool.config,
            classes: this.services.classes,
            loopGuard: this.services.loopGuard,
            ...(this.services.resolveDestination
              ? { resolveDestination: this.services.resolveDestination }
              : {}),
            ...(this.services.frontendTls ? { frontendTls: this.services.frontendTls } : {}),
            ...(pool.tls ? { backendTls: pool.tls } : {}),
          })
        : new ReverseFtpSession(socket, {
            ...common,
            pool,
            hostPools: this.services.hostPools,
            reporter: this.services.reporter,
            ...(this.services.frontendTls ? { frontendTls: this.services.frontendTls } : {}),
            ...(this.services.sniPools ? { sniPools: this.services.sniPools } : {}),
            ...(this.services.poolRules ? { poolRules: this.services.poolRules } : {}),
            classify: (address: string) => this.services.classes.classify(address)?.name,
          });
    const running = session;
    // An autoban of this client ends this session too, with 421 and the ban's message.
    admission?.whenBanned((refusal) => running.close(refusal.text));
    this.sessions.add(running);
    (tracked ? tracked.runTraced(() => running.run()) : running.run())
      .catch((err: unknown) => this.log.error('session crashed', { session: running.id, error: err }))
      .finally(() => {
        this.sessions.delete(running);
        admission?.end();
        tracked?.end();
      });
  }

  /** Stops accepting and ends every session (with `421 reason` when one is given). */
  async close(reason?: string): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const session of this.sessions) session.close(reason);
    await this.services.frontendTls?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
