import type { Socket } from 'node:net';
import type { Duplex, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataRelayError } from './data-errors.js';
import { isReadBuffered, pumpInto } from './read-buffer.js';

/**
 * Buffer sizes of data sockets. Node's default (16 KiB) is below one 64 KiB read, so nearly every
 * write would pause the source until the sink drained; 1 MiB keeps both sides streaming while it
 * still bounds memory per transfer.
 */
export const DATA_HIGH_WATER_MARK = 1024 * 1024;

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
      await Promise.all([pumpInto(source, head, { copy: through.length > 0, onProgress, signal }), tail]);
      return source.bytesRead;
    }
    const piping = pipeline([source, ...through, sink], { signal });
    // Attached in the same tick as the pipe, so no chunk flows before either listener is there.
    source.on('data', (chunk: Buffer) => onProgress(chunk.length));
    await piping;
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
