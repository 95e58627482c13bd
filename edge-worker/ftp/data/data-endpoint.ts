import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { DataConnectionError } from './data-errors.js';
import type { DataListener } from './data-listener.js';
import { DATA_HIGH_WATER_MARK } from './data-relay.js';
import { connectReadBuffered } from './read-buffer.js';

/**
 * One side of a transfer's data connection, set up by PASV/EPSV/PORT/EPRT before the transfer
 * command and opened during it: by accepting (we listen: client passive, backend active) or by
 * connecting (the peer listens: client active, backend passive).
 */
export interface DataEndpoint {
  /** For logs: "EPRT: accept on 127.0.0.1:50000", "PASV: connect to 127.0.0.1:2020". */
  readonly description: string;
  open(signal: AbortSignal): Promise<Socket>;
  /**
   * Accepting endpoints only: like open(), but each connection goes through `vet` first; one it
   * refuses (undefined) is closed and the next connection from the peer is tried, within the same
   * time limit and at most `maxRefused` times. Errors from `vet` fail the open.
   */
  openVetted?<T extends Socket>(
    signal: AbortSignal,
    vet: (socket: Socket) => Promise<T | undefined>,
    maxRefused: number,
  ): Promise<T>;
  /** Releases whatever the endpoint holds; idempotent. */
  dispose(): void;
}

export function acceptingEndpoint(
  listener: DataListener,
  bindAddress: string,
  timeoutMs: number,
  via?: string,
): DataEndpoint {
  return {
    description: `${via ? `${via}: ` : ''}accept on ${bindAddress}:${listener.port}`,
    open: (signal) => {
      const onAbort = () => listener.dispose();
      signal.addEventListener('abort', onAbort, { once: true });
      return listener.accept(timeoutMs).finally(() => signal.removeEventListener('abort', onAbort));
    },
    openVetted: async (signal, vet, maxRefused) => {
      const onAbort = () => listener.dispose();
      signal.addEventListener('abort', onAbort, { once: true });
      const deadline = performance.now() + timeoutMs;
      try {
        for (let refused = 0; ; refused++) {
          const last = refused >= maxRefused;
          const socket = await listener.accept(Math.max(0, deadline - performance.now()), !last);
          const vetted = await vet(socket);
          if (vetted) {
            listener.close();
            return vetted;
          }
          socket.destroy();
          if (last) throw new DataConnectionError(`${refused + 1} data connections refused`);
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    dispose: () => listener.dispose(),
  };
}

export function connectingEndpoint(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress: string | undefined,
  via?: string,
  /** Read into the shared buffer (read-buffer.ts); off for sockets TLS will take over. */
  readBuffered = true,
): DataEndpoint {
  let socket: Socket | undefined;
  return {
    description: `${via ? `${via}: ` : ''}connect to ${host}:${port}`,
    open: (signal) =>
      new Promise<Socket>((resolve, reject) => {
        // Node's types omit the stream options net.Socket passes on to its Duplex.
        const options = { host, port, noDelay: true, highWaterMark: DATA_HIGH_WATER_MARK };
        const connectOptions = { ...options, ...(localAddress ? { localAddress } : {}) } as NetConnectOpts;
        const attempt = readBuffered ? connectReadBuffered(connectOptions) : connect(connectOptions);
        socket = attempt;
        const fail = (err: Error) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          attempt.destroy();
          reject(
            new DataConnectionError(`data connection to ${host}:${port}: ${err.message}`, { cause: err }),
          );
        };
        const onAbort = () => fail(new Error('aborted'));
        const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        attempt.once('error', fail);
        attempt.once('connect', () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          attempt.off('error', fail);
          attempt.on('error', () => {});
          resolve(attempt);
        });
      }),
    dispose: () => socket?.destroy(),
  };
}
