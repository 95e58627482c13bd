import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { CommandLimits } from '../ftp/command-limits.js';
import { PortRange } from '../ftp/port-range.js';
import { ReverseFtpSession } from '../ftp/reverse-session.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import { type Cidr, parseCidrList } from '../net/cidr.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import type { ConnectionReporter } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import { identifyClient } from './client-identity.js';
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
        (client) => {
          if (client) this.startSession(socket, client);
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

  private identifyClient(socket: Socket): Promise<ProxyAddress | undefined> {
    return identifyClient(socket, this.config.proxyProtocol, this.trustedNetworks, this.log);
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
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
