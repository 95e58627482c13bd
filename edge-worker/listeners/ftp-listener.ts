import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { CommandLimits } from '../ftp/command-limits.js';
import { PortRange } from '../ftp/port-range.js';
import { ReverseFtpSession } from '../ftp/reverse-session.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import { type Cidr, inNetworks, parseCidrList } from '../net/cidr.js';
import { readProxyHeader } from '../proxy-protocol/decode.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import type { ConnectionReporter } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import type { FrontendTls } from '../tls/frontend-tls-context.js';
import { foreignAddressPolicy } from './foreign-address.js';
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
  /** The listener's FTPS (its `tls` block, loaded); plain FTP when absent. */
  frontendTls?: FrontendTls;
  /** Pools the TLS SNI name may choose (tls.sniPools). */
  sniPools?: Pool[];
}

export interface ListeningAddress {
  name: string;
  address: string;
  port: number;
  pool: string;
}

/**
 * One FTP listener: accepts clients and runs a reverse session for each. A session's failure ends
 * that session only; the listener and every other session go on.
 */
export class FtpListener {
  private readonly sessions = new Set<ReverseFtpSession>();
  private readonly log: Logger;
  private readonly limits: CommandLimits;
  private server: Server | undefined;
  private readonly portRange: PortRange | undefined;
  private readonly allowsForeignAddress: (host: string) => boolean;
  private masqueradeIPv4: string | undefined;
  private readonly trustedNetworks: Cidr[] | undefined;

  constructor(
    private readonly config: ListenerConfig,
    private readonly services: ListenerServices,
  ) {
    this.log = services.log;
    this.limits = new CommandLimits(config.limits);
    this.portRange = config.passivePorts
      ? new PortRange(config.passivePorts.min, config.passivePorts.max)
      : undefined;
    this.allowsForeignAddress = foreignAddressPolicy(config.allowForeignAddress);
    if (config.proxyProtocol) {
      const parsed = parseCidrList(config.proxyProtocol.trustedNetworks);
      // The config schema validated the list; this guards against a caller that skipped it.
      if (!parsed.ok) throw new Error(parsed.error);
      this.trustedNetworks = parsed.cidrs;
    }
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async start(): Promise<ListeningAddress> {
    this.masqueradeIPv4 = await resolveMasqueradeAddress(this.config.masqueradeAddress);
    const server = createServer({ noDelay: true, keepAlive: true });
    server.on('connection', (socket) => {
      socket.on('error', () => {});
      this.identifyClient(socket).then(
        async (client) => {
          if (!client) return;
          const implicit = this.services.frontendTls;
          if (implicit?.config.mode !== 'implicit') {
            this.startSession(socket, client);
            return;
          }
          // Implicit FTPS: TLS from the first byte. Anything else (plain FTP, a scanner's garbage)
          // fails the handshake and closes this connection only.
          const secured = await implicit.accept(socket).catch((err: unknown) => {
            this.log.info('implicit TLS handshake failed', {
              client: `${client.address}:${client.port}`,
              reason: err instanceof Error ? err.message : String(err),
            });
            socket.destroy();
            return undefined;
          });
          if (secured) this.startSession(secured, client);
        },
        (err: unknown) => {
          this.log.error('could not identify the client', { error: err });
          socket.destroy();
        },
      );
    });
    server.on('error', (err) => this.log.error('listener error', { error: err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.config.address, port: this.config.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address();
    const port = address !== null && typeof address === 'object' ? address.port : this.config.port;
    const listening = {
      name: this.config.name ?? this.config.pool,
      address: this.config.address,
      port,
      pool: this.services.pool.config.name,
    };
    this.log.info('listening', listening);
    return listening;
  }

  /**
   * The client's address: the socket's peer, or, for connections from a trusted network (a load
   * balancer), the source named by the PROXY header it must send first. A missing or malformed header
   * closes that connection only. Undefined when the connection was closed.
   */
  private async identifyClient(socket: Socket): Promise<ProxyAddress | undefined> {
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const inbound = this.config.proxyProtocol;
    if (!inbound || !this.trustedNetworks || !inNetworks(peer.address, this.trustedNetworks)) return peer;
    const result = await readProxyHeader(socket, { timeoutMs: inbound.timeout, required: true });
    if (result.kind === 'header') {
      // LOCAL (a health check of the load balancer itself) names no client: the peer is the client.
      return result.header.command === 'proxy' && result.header.source ? result.header.source : peer;
    }
    this.log.warn('refused connection: no valid PROXY protocol header', {
      peer: `${peer.address}:${peer.port}`,
      reason: result.kind === 'error' ? `${result.code}: ${result.reason}` : 'no header',
    });
    socket.destroy();
    return undefined;
  }

  private startSession(socket: Socket, client: ProxyAddress): void {
    const session = new ReverseFtpSession(socket, {
      listener: this.config,
      pool: this.services.pool,
      hostPools: this.services.hostPools,
      limits: this.limits,
      controlPlane: this.services.controlPlane,
      clientAddress: client.address,
      clientPort: client.port,
      portRange: this.portRange,
      masqueradeIPv4: this.masqueradeIPv4,
      allowsForeignAddress: this.allowsForeignAddress,
      reporter: this.services.reporter,
      transferLog: this.services.transferLog,
      log: this.log,
      ...(this.services.frontendTls ? { frontendTls: this.services.frontendTls } : {}),
      ...(this.services.sniPools ? { sniPools: this.services.sniPools } : {}),
    });
    this.sessions.add(session);
    session
      .run()
      .catch((err: unknown) => this.log.error('session crashed', { session: session.id, error: err }))
      .finally(() => this.sessions.delete(session));
  }

  /** Stops accepting and ends every session. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const session of this.sessions) session.close();
    this.services.frontendTls?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
