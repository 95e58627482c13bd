import { connect, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { DataConnectionError, DataRelayError } from './data-errors.js';

/** Opens the proxy's data connection to a backend's passive port. */
export function connectData(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress?: string,
  signal?: AbortSignal,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    socket.pause();
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new DataConnectionError(`data connection to ${host}:${port}: ${err.message}`, { cause: err }));
    };
    const onAbort = () => fail(new Error('aborted'));
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

/**
 * Copies one data connection into the other until EOF, with backpressure (a slow reader slows the
 * writer's peer, never the worker), then closes both. Bytes are copied verbatim: no ASCII conversion,
 * the backend already did it. Resolves with the number of bytes relayed.
 */
export async function relayData(source: Socket, sink: Socket, signal: AbortSignal): Promise<number> {
  try {
    await pipeline(source, sink, { signal });
    return source.bytesRead;
  } catch (err) {
    throw new DataRelayError(
      signal.aborted ? 'transfer aborted' : `data relay failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    source.destroy();
    sink.destroy();
  }
}
