import { createServer, type Server } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { PortRange } from '../ftp/port-range.js';
import { ReverseFtpSession } from '../ftp/reverse-session.js';
import type { Logger } from '../log/logger.js';
import type { Pool } from '../reverse/pool.js';
import { foreignAddressPolicy } from './foreign-address.js';
import { resolveMasqueradeAddress } from './masquerade-address.js';

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
  private server: Server | undefined;
  private readonly portRange: PortRange | undefined;
  private readonly allowsForeignAddress: (host: string) => boolean;
  private masqueradeIPv4: string | undefined;

  constructor(
    private readonly config: ListenerConfig,
    private readonly pool: Pool,
    private readonly controlPlane: ControlPlaneClient,
    private readonly log: Logger,
  ) {
    this.portRange = config.passivePorts
      ? new PortRange(config.passivePorts.min, config.passivePorts.max)
      : undefined;
    this.allowsForeignAddress = foreignAddressPolicy(config.allowForeignAddress);
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async start(): Promise<ListeningAddress> {
    this.masqueradeIPv4 = await resolveMasqueradeAddress(this.config.masqueradeAddress);
    const server = createServer({ noDelay: true, keepAlive: true });
    server.on('connection', (socket) => {
      const session = new ReverseFtpSession(socket, {
        listener: this.config,
        pool: this.pool,
        controlPlane: this.controlPlane,
        clientAddress: socket.remoteAddress ?? '',
        portRange: this.portRange,
        masqueradeIPv4: this.masqueradeIPv4,
        allowsForeignAddress: this.allowsForeignAddress,
        log: this.log,
      });
      this.sessions.add(session);
      session
        .run()
        .catch((err: unknown) => this.log.error('session crashed', { session: session.id, error: err }))
        .finally(() => this.sessions.delete(session));
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
      pool: this.pool.config.name,
    };
    this.log.info('listening', listening);
    return listening;
  }

  /** Stops accepting and ends every session. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const session of this.sessions) session.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
