import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, { type Connection, type Server as SshServer } from 'ssh2';
import type { ListenerConfig } from '../config/schema.js';
import type { SftpListenerConfig } from '../config/sftp-schema.js';
import { type Cidr, parseCidrList } from '../net/cidr.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import { ssh2Algorithms } from '../sftp/algorithms.js';
import { BackendConnector } from '../sftp/backend-connector.js';
import { loadPrivateKeys } from '../sftp/host-keys.js';
import type { ServerHostKeys } from '../sftp/server-host-keys.js';
import { SshServerSession } from '../sftp/ssh-server-session.js';
import { identifyClient } from './client-identity.js';
import type { ListenerServices, ListeningAddress } from './ftp-listener.js';

export interface SftpListenerServices extends ListenerServices {
  /** Backend host keys for ProxySFTPVerifyServer. */
  serverHostKeys?: ServerHostKeys;
}

/**
 * An SSH listener (`protocol: sftp`): an ssh2 server with the configured host keys and algorithms,
 * relaying each client's SFTP and SCP to an sftp:// backend of its pool (docs/sftp.md).
 */
export class SftpListener {
  private readonly sessions = new Set<SshServerSession>();
  private server: NetServer | undefined;
  private ssh: SshServer | undefined;
  private readonly trustedNetworks: Cidr[] | undefined;
  private readonly sftp: SftpListenerConfig;
  /** Real client addresses of sockets handed to ssh2, for connections that came through PROXY protocol. */
  private readonly clients = new WeakMap<Socket, ProxyAddress>();
  private connector: BackendConnector | undefined;

  constructor(
    private readonly config: ListenerConfig,
    private readonly services: SftpListenerServices,
  ) {
    if (!config.sftp) throw new Error('an sftp listener needs its sftp settings');
    this.sftp = config.sftp;
    if (config.proxyProtocol) {
      const parsed = parseCidrList(config.proxyProtocol.trustedNetworks);
      if (!parsed.ok) throw new Error(parsed.error);
      this.trustedNetworks = parsed.cidrs;
    }
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async start(): Promise<ListeningAddress> {
    const { sftp, services } = this;
    const hostKeys = await loadPrivateKeys(sftp.hostKeys, {
      provider: sftp.passPhraseProvider,
      server: `${this.config.address}:${this.config.port}`,
    });
    this.connector = await BackendConnector.create(services.pool.config, services.serverHostKeys);
    this.ssh = new ssh2.Server(
      {
        hostKeys: hostKeys.map(({ key, passphrase }) =>
          passphrase !== undefined ? { key, passphrase } : key,
        ),
        algorithms: ssh2Algorithms({
          ciphers: sftp.ciphers,
          digests: sftp.digests,
          keyExchanges: sftp.keyExchanges,
          hostKeyAlgorithms: sftp.hostKeyAlgorithms,
          compression: sftp.compression,
        }),
        ident: sftp.ident,
        ...(sftp.banner ? { banner: sftp.banner } : {}),
      },
      (conn) => this.startSession(conn),
    );
    const server = createServer({ noDelay: true, keepAlive: true });
    server.on('connection', (socket) => {
      socket.on('error', () => {});
      identifyClient(socket, this.config.proxyProtocol, this.trustedNetworks, services.log).then(
        (client) => {
          if (!client || !this.ssh) return;
          this.clients.set(socket, client);
          this.ssh.injectSocket(socket);
        },
        (err: unknown) => {
          services.log.error('could not identify the client', { error: err });
          socket.destroy();
        },
      );
    });
    server.on('error', (err) => services.log.error('listener error', { error: err }));
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
      name: this.config.name ?? this.services.pool.config.name,
      address: this.config.address,
      port,
      pool: this.services.pool.config.name,
    };
    services.log.info('listening', { ...listening, protocol: 'sftp' });
    return listening;
  }

  private startSession(conn: Connection): void {
    const connector = this.connector;
    if (!connector) {
      conn.end();
      return;
    }
    const socket = (conn as unknown as { _sock?: Socket })._sock;
    const client = (socket && this.clients.get(socket)) ?? {
      address: socket?.remoteAddress ?? '',
      port: socket?.remotePort ?? 0,
    };
    const session = new SshServerSession(conn, {
      listener: this.config,
      sftp: this.sftp,
      pool: this.services.pool,
      connector,
      controlPlane: this.services.controlPlane,
      reporter: this.services.reporter,
      transferLog: this.services.transferLog,
      log: this.services.log,
      clientAddress: client.address,
      clientPort: client.port,
    });
    this.sessions.add(session);
    session
      .run()
      .catch((err: unknown) =>
        this.services.log.error('session crashed', { session: session.id, error: err }),
      )
      .finally(() => this.sessions.delete(session));
  }

  /** Stops accepting and ends every session. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.ssh = undefined;
    for (const session of this.sessions) session.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
