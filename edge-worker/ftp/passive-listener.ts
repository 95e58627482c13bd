import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { DataConnectionError } from './data-errors.js';
import { sameHost } from './passive-address.js';

/**
 * The frontend side of a passive transfer: one listening socket, one accepted connection. Only the
 * control connection's client may connect (data-port theft protection); others are dropped and the
 * real client can still connect. Accepted sockets stay paused until the relay reads them, so data a
 * client sends early is not lost.
 */
export class PassiveListener {
  private accepted: Socket | undefined;
  private waiter: { resolve: (socket: Socket) => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly expectedPeer: string,
    private readonly log: Logger,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  static async open(bindAddress: string, expectedPeer: string, log: Logger): Promise<PassiveListener> {
    const server = createServer({ pauseOnConnect: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // exclusive: in cluster mode a worker's data port must be its own, never shared.
      server.listen({ host: bindAddress, port: 0, exclusive: true, backlog: 4 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new DataConnectionError('passive listener has no port');
    return new PassiveListener(server, address.port, expectedPeer, log);
  }

  /** Resolves with the client's data connection, waiting up to timeoutMs for it. */
  accept(timeoutMs: number): Promise<Socket> {
    if (this.accepted) return Promise.resolve(this.accepted);
    if (this.closed) return Promise.reject(new DataConnectionError('data connection listener is closed'));
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new DataConnectionError(`client did not open the data connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (socket) => {
          clearTimeout(timer);
          resolve(socket);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  /** Stops listening and drops any connection not handed out yet. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(new DataConnectionError('data connection listener closed'));
  }

  /** Closes the listener and destroys the accepted connection too (transfer over or aborted). */
  dispose(): void {
    this.close();
    this.accepted?.destroy();
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => {});
    const peer = socket.remoteAddress ?? '';
    if (this.accepted || this.closed) {
      socket.destroy();
      return;
    }
    if (!sameHost(peer, this.expectedPeer)) {
      this.log.warn('refused passive data connection from a foreign address', {
        peer,
        expected: this.expectedPeer,
        port: this.port,
      });
      socket.destroy();
      return;
    }
    this.accepted = socket;
    this.server.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(socket);
  }
}
