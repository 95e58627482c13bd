import type { Socket } from 'node:net';
import type { Duplex, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TLSSocket } from 'node:tls';
import { DataRelayError } from './data-errors.js';
import { isReadBuffered, pumpInto } from './read-buffer.js';

/**
 * Buffer sizes of data sockets. Node's default (16 KiB) is below one 64 KiB read, so nearly every
 * write would pause the source until the sink drained; 1 MiB keeps both sides streaming while it
 * still bounds memory per transfer.
 */
export const DATA_HIGH_WATER_MARK = 1024 * 1024;

/** How long a TLS data connection's peer may take to close its side after our close_notify. */
const TLS_CLOSE_WAIT_MS = 2000;

/**
 * Copies one data connection into the other until EOF, with backpressure (a slow reader slows the
 * writer's peer, never the worker), then closes both. Bytes are copied verbatim: no ASCII conversion,
 * the backend already did it. `onProgress` hears of every chunk (TimeoutStalled). `through`
 * rewrites or paces the bytes on the way (a LIST listing translated to MLSD, TransferRate). Resolves
 * with the number of bytes read from the source.
 */
export async function relayData(
  source: Socket,
  sink: Socket,
  signal: AbortSignal,
  onProgress: (bytes: number) => void = () => {},
  through: Transform[] = [],
): Promise<number> {
  try {
    if (isReadBuffered(source)) {
      const chain: Duplex[] = [...through, sink];
      const head = chain[0] as Duplex;
      const tail = chain.length > 1 ? pipeline(chain, { signal }) : Promise.resolve();
      if (sink instanceof TLSSocket) sink.resume();
      await Promise.all([pumpInto(source, head, { copy: through.length > 0, onProgress, signal }), tail]);
      if (sink instanceof TLSSocket) await peerClosed(sink, signal);
      return source.bytesRead;
    }
    const piping = pipeline([source, ...through, sink], { signal });
    // Attached in the same tick as the pipe, so no chunk flows before either listener is there.
    source.on('data', (chunk: Buffer) => onProgress(chunk.length));
    if (sink instanceof TLSSocket) sink.resume();
    await piping;
    if (sink instanceof TLSSocket) await peerClosed(sink, signal);
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

/**
 * After our close_notify on a TLS data connection, waits (briefly) for the peer to close its side.
 * A TLS 1.3 server sends session tickets on every connection, which we never read on the side we
 * only write to; closing a socket with unread bytes sends a RST instead of a FIN, and a RST that
 * overtakes the last upload bytes makes the server drop them (vsftpd then answers 426). Reading
 * (and dropping) what the peer sends and letting it close first avoids that.
 */
function peerClosed(sink: TLSSocket, signal: AbortSignal): Promise<void> {
  if (sink.destroyed || sink.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sink.off('end', done);
      sink.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, TLS_CLOSE_WAIT_MS);
    sink.once('end', done);
    sink.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
