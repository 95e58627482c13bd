import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { sameHost } from './data-address.js';
import { DataConnectionError } from './data-errors.js';
import { DATA_HIGH_WATER_MARK } from './data-relay.js';
import { listenOn, type PortRange } from './port-range.js';

export interface DataListenerOptions {
  bindAddress: string;
  /** Only this host may connect: the control connection's client, or the backend in active mode. */
  expectedPeer: string;
  /** PassivePorts; any free port when absent. */
  portRange?: PortRange;
  log: Logger;
  /** What the listener is for, in log lines: "client passive", "backend active". */
  purpose: string;
}

/** Connections from the expected peer held while an earlier one is vetted (TLS session binding). */
const MAX_WAITING = 4;

/**
 * A listening socket for one data connection: the frontend side of a passive transfer, or the
 * backend side of an active one. Only the expected peer may connect (data-port theft protection):
 * others are dropped, and the real peer can still connect. Accepted sockets stay paused until the
 * relay reads them, so data the peer sends early is not lost.
 *
 * Normally the first connection from the expected peer is the data connection. A caller that vets
 * each connection (a TLS data connection must resume its own control connection's session, and a
 * client behind the same address can race another client's passive port) accepts with
 * `keepListening` and asks again after refusing one; a few connections that came meanwhile wait.
 */
export class DataListener {
  private readonly waiting: Socket[] = [];
  private readonly taken: Socket[] = [];
  private waiter: { resolve: (socket: Socket) => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: DataListenerOptions,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  static async open(options: DataListenerOptions): Promise<DataListener> {
    const server = createServer({ pauseOnConnect: true, noDelay: true, highWaterMark: DATA_HIGH_WATER_MARK });
    // The server's own errors (after listening) have nowhere useful to go; accept() times out instead.
    server.on('error', () => {});
    const port = options.portRange
      ? await options.portRange.listen(server, options.bindAddress)
      : await listenOn(server, options.bindAddress, 0).then(() => {
          const address = server.address();
          if (address === null || typeof address === 'string')
            throw new DataConnectionError('data listener has no port');
          return address.port;
        });
    return new DataListener(server, port, options);
  }

  /**
   * Resolves with the peer's next data connection, waiting up to timeoutMs for it. Unless
   * `keepListening`, the listener then stops listening: that connection is the data connection.
   */
  accept(timeoutMs: number, keepListening = false): Promise<Socket> {
    const take = (socket: Socket) => {
      this.taken.push(socket);
      if (!keepListening) this.close();
      return socket;
    };
    const next = this.waiting.shift();
    if (next) return Promise.resolve(take(next));
    if (this.closed) return Promise.reject(new DataConnectionError('data connection listener is closed'));
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new DataConnectionError(`no ${this.options.purpose} data connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (socket) => {
          clearTimeout(timer);
          resolve(take(socket));
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  /** Stops listening, drops connections not yet taken and fails a pending accept. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const socket of this.waiting.splice(0)) socket.destroy();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(new DataConnectionError('data connection listener closed'));
  }

  /** Closes the listener and destroys the accepted connections too (transfer over or aborted). */
  dispose(): void {
    this.close();
    for (const socket of this.taken.splice(0)) socket.destroy();
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => {});
    const peer = socket.remoteAddress ?? '';
    if (this.closed || this.waiting.length >= MAX_WAITING) {
      socket.destroy();
      return;
    }
    if (!sameHost(peer, this.options.expectedPeer)) {
      this.options.log.warn('refused data connection from a foreign address', {
        purpose: this.options.purpose,
        peer,
        expected: this.options.expectedPeer,
        port: this.port,
      });
      socket.destroy();
      return;
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter.resolve(socket);
    else this.waiting.push(socket);
  }
}
