import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWritesPerRead } from '../../../../edge-worker/sftp/write-coalescing.js';

/** A connected pair of loopback sockets. */
async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const client = connect(address.port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [Socket];
  await once(client, 'connect');
  return [client, accepted, () => server.close()];
}

describe('coalesceWritesPerRead', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('sends the writes a read causes in one writev, all bytes in order, and uncorks before the loop turns', async () => {
    // from: reads what `feeder` sends; to: writes to `sink`.
    const [feeder, from, closeA] = await socketPair();
    const [to, sink, closeB] = await socketPair();
    cleanups.push(closeA, closeB, () => {
      for (const s of [feeder, from, to, sink]) s.destroy();
    });
    coalesceWritesPerRead(from, to);
    const writevBatches: number[] = [];
    const writev = (to as unknown as { _writev: (chunks: unknown[], cb: () => void) => void })._writev.bind(
      to,
    );
    (to as unknown as { _writev: typeof writev })._writev = (chunks, cb) => {
      writevBatches.push(chunks.length);
      writev(chunks, cb);
    };
    const corkedDuringRead: number[] = [];
    // As ssh2 does: the handler writes several packets per chunk read.
    from.on('data', (chunk: Buffer) => {
      corkedDuringRead.push(to.writableCorked);
      to.write(chunk.subarray(0, 1));
      to.write(chunk.subarray(1, 2));
      to.write(chunk.subarray(2));
    });
    const received: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => received.push(chunk));
    feeder.write(Buffer.from('abcdef'));
    await new Promise<void>((resolve) => {
      const check = () => (Buffer.concat(received).length >= 6 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(Buffer.concat(received).toString()).toBe('abcdef');
    expect(corkedDuringRead).toEqual([1]);
    expect(writevBatches).toEqual([3]);
    expect(to.writableCorked).toBe(0);
  });
});
