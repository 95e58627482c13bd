import type { Server as NetServer, Socket } from 'node:net';
import ssh2, { type Connection, type Server as SshServer } from 'ssh2';
import type { Cidr } from '../../functions/core/net/index.js';
import { tuneHeapForSftp } from '../cluster/memory-settings.js';
import type { ListenerConfig } from '../config/schema.js';
import type { SftpListenerConfig } from '../config/sftp-schema.js';
import { type Admission, isRefused } from '../limits/connection-guard.js';
import { refuseSocket } from '../limits/refuse-socket.js';
import { NO_MORE_AUTH_METHODS, sshDisconnect, TOO_MANY_CONNECTIONS } from '../limits/ssh-disconnect.js';
import { sshTraceDebug } from '../log/ssh-trace.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import { ssh2Algorithms } from '../sftp/algorithms.js';
import { BackendConnector } from '../sftp/backend-connector.js';
import { loadPrivateKeys } from '../sftp/host-keys.js';
import type { ServerHostKeys } from '../sftp/server-host-keys.js';
import { SshServerSession } from '../sftp/ssh-server-session.js';
import { identifyClient } from './client-identity.js';
import type { ListenerServices, ListeningAddress } from './ftp-listener.js';
import { handOver, listenOn, trustedNetworksOf } from './listening-socket.js';

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
  /** The limits' admission of each socket handed to ssh2, and the sockets whose session started. */
  private readonly admissions = new WeakMap<Socket, Admission>();
  private readonly started = new WeakSet<Socket>();
  /**
   * Sockets handed to ssh2 whose client has not sent its version string yet: ssh2 starts a session
   * (and its login timer) only then, so these are timed out and closed here.
   */
  private readonly waiting = new Set<Socket>();
  private readonly versionReceived = new WeakMap<Socket, () => void>();
  private connector: BackendConnector | undefined;
  private draining = false;

  constructor(
    private readonly config: ListenerConfig,
    private readonly services: SftpListenerServices,
  ) {
    if (!config.sftp) throw new Error('an sftp listener needs its sftp settings');
    this.sftp = config.sftp;
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
   * replaces (see takeServer), with this config's host keys, algorithms and pool.
   */
  async start(inherited?: NetServer): Promise<ListeningAddress> {
    // Held at once, so that a failure below can still hand it back (takeServer).
    if (inherited) this.server = inherited;
    const { sftp, services } = this;
    // Relaying SSH packets churns buffers; see memory-settings.ts for what this setting saves and costs.
    tuneHeapForSftp();
    const hostKeys = await loadPrivateKeys(sftp.hostKeys, {
      provider: sftp.passPhraseProvider,
      server: `${this.config.address}:${this.config.port}`,
    });
    this.connector = await BackendConnector.create(services.pool.config, services.serverHostKeys);
    const serverDebug = sshTraceDebug(services.log, 'server');
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
        // The proxy.ssh.* traces of the frontend side (the client's key exchange and login).
        ...(serverDebug ? { debug: serverDebug } : {}),
        ...(sftp.banner ? { banner: sftp.banner } : {}),
      },
      (conn) => this.startSession(conn),
    );
    const { server, port } = await listenOn(
      this.config,
      inherited,
      (socket) => {
        socket.on('error', () => {});
        if (this.draining) {
          // SSH has no way to refuse before its key exchange: the client sees the connection closed.
          socket.destroy();
          return;
        }
        identifyClient(socket, this.config.proxyProtocol, this.trustedNetworks, services.log).then(
          async (client) => {
            if (!client || !this.ssh) return;
            // Limits and bans before the SSH handshake: a refused client costs no key exchange.
            const admission = await this.admit(socket, client);
            if (admission === false || !this.ssh) {
              if (admission) admission.end();
              return;
            }
            if (admission) {
              this.admissions.set(socket, admission);
              // Until the session starts (after the key exchange) the admission ends with the socket.
              socket.once('close', () => {
                if (!this.started.has(socket)) admission.end();
              });
            }
            this.clients.set(socket, client);
            this.awaitVersion(socket, admission);
            this.ssh.injectSocket(socket);
          },
          (err: unknown) => {
            services.log.error('could not identify the client', { error: err });
            socket.destroy();
          },
        );
      },
      services.log,
    );
    this.server = server;
    const listening = {
      name: this.config.name ?? this.services.pool.config.name,
      address: this.config.address,
      port,
      pool: this.services.pool.config.name,
    };
    services.log.info('listening', { ...listening, protocol: 'sftp' });
    return listening;
  }

  /**
   * The listener's limits and bans (limits/connection-guard.ts), before the SSH handshake: a refused
   * client gets the refusal as a line before the version string (RFC 4253 section 4.2), then the close.
   */
  private async admit(socket: Socket, client: ProxyAddress): Promise<Admission | undefined | false> {
    const guard = this.services.guard;
    if (!guard) return undefined;
    const result = await guard.admit(client.address).catch((err: unknown) => {
      this.services.log.error('connection limits failed; client admitted', { error: err });
      return undefined;
    });
    if (result === undefined || !isRefused(result)) {
      if (result && (socket.destroyed || this.draining)) {
        result.end();
        return false;
      }
      return result;
    }
    refuseSocket(socket, result.refusal ? `${result.refusal.text}\r\n` : undefined);
    return false;
  }

  /**
   * TimeoutLogin from accept to the client's version string (RFC 4253 section 4.2): a client that
   * connects and says nothing holds a pre-login place (and a socket) for timeouts.login at most, as
   * the session's own login timer bounds the rest of the login. Reported as a TimeoutLogin ban event.
   */
  private awaitVersion(socket: Socket, admission: Admission | undefined): void {
    this.waiting.add(socket);
    const loginTimeout = this.config.timeouts.login;
    const timer =
      loginTimeout > 0
        ? setTimeout(() => {
            if (this.started.has(socket)) return;
            this.services.log.info('SSH client sent no version string in time (TimeoutLogin)', {
              client: `${socket.remoteAddress}:${socket.remotePort}`,
            });
            admission?.event('TimeoutLogin');
            socket.destroy();
          }, loginTimeout)
        : undefined;
    timer?.unref();
    const done = () => {
      clearTimeout(timer);
      this.waiting.delete(socket);
    };
    socket.once('close', done);
    this.versionReceived.set(socket, done);
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
    let session: SshServerSession | undefined;
    const tracked = this.services.sessions?.register({
      protocol: 'sftp',
      role: 'reverse',
      pool: this.services.pool.config.name,
      listener: this.config.name ?? this.config.pool,
      client: `${client.address}:${client.port}`,
      close: (reason) => session?.close(reason),
    });
    const admission = socket ? this.admissions.get(socket) : undefined;
    if (socket) {
      this.started.add(socket);
      this.versionReceived.get(socket)?.();
    }
    session = new SshServerSession(conn, {
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
      frontend: { address: socket?.localAddress ?? '', port: socket?.localPort ?? 0 },
      ...(tracked ? { tracked } : {}),
      ...(admission
        ? {
            guard: admission,
            refuse: (text: string) => sshDisconnect(conn, TOO_MANY_CONNECTIONS, text),
          }
        : {}),
    });
    const running = session;
    // An autoban of this client ends this connection too, with an SSH disconnect carrying the ban's message.
    admission?.whenBanned((refusal) => {
      sshDisconnect(conn, NO_MORE_AUTH_METHODS, refusal.text);
      running.close(refusal.text);
    });
    this.sessions.add(running);
    (tracked ? tracked.runTraced(() => running.run()) : running.run())
      .catch((err: unknown) =>
        this.services.log.error('session crashed', { session: running.id, error: err }),
      )
      .finally(() => {
        this.sessions.delete(running);
        admission?.end();
        tracked?.end();
      });
  }

  /**
   * Hands the listening socket to the listener that replaces this one (a reload): this one stops
   * accepting, its sessions go on until they end.
   */
  takeServer(): NetServer | undefined {
    const server = this.server;
    this.server = undefined;
    return handOver(server);
  }

  /** From now on, clients that connect are disconnected at once; sessions go on. */
  drain(): void {
    this.draining = true;
  }

  /** Stops accepting and ends every session (`reason` is logged: SSH has no reply code for it). */
  async close(reason?: string): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.ssh = undefined;
    for (const session of this.sessions) session.close(reason);
    // Clients still before their version string have no session to close; the server waits for them.
    for (const socket of this.waiting) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
