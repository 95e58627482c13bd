import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { TailHold } from './tail-hold.js';

/**
 * Data sockets the proxy connects itself read into one reused buffer (net's `onread`) rather than
 * a new 64 KiB Buffer per read: fewer allocations and larger reads, which is where a Node relay
 * spends its time (about a third faster in a loopback relay). Reading starts only when
 * `pumpInto` takes the socket: until then it stays paused, so nothing read can be lost.
 */
const READ_BUFFER_BYTES = 1024 * 1024;

/**
 * How much one relay may move before it lets the event loop go round. A chunk whose write completes
 * at once (loopback, a sink with room) calls back in a nextTick inside the same read callback, and
 * resuming there lets libuv go on reading the same socket (up to 32 full reads per poll event): one
 * transfer could copy tens of MiB before the worker looked at any other socket, such as another
 * session's control connection (issue 19: its replies within 5 ms while transfers run). Past this
 * budget, reading resumes from the check phase instead, after every other ready socket was served.
 * 64 KiB rather than 256: with 8 downloads from a TLS backend on 2 workers, another session's NOOP
 * waited a busy median of 4.4–6.1 ms instead of 4.9–8.9 (p95 21–31 vs 36–51) at the same MiB/s and
 * CPU per GiB (bench/README.md, "Control replies while transfers run"). A plain source reads 1 MiB
 * at a time and yields after each read either way.
 */
export const TURN_BUDGET_BYTES = 64 * 1024;

interface Reader {
  /** Takes one chunk read into the shared buffer; true when the next read may overwrite it right away. */
  onChunk: ((bytes: Buffer) => boolean) | undefined;
}

const readers = new WeakMap<Socket, Reader>();

/** The reader's half of net's `onread`: false pauses reading until the chunk is written out. */
function readerCallback(reader: Reader) {
  return (length: number, buffer: Uint8Array): boolean =>
    reader.onChunk?.(Buffer.from(buffer.buffer, buffer.byteOffset, length)) ?? false;
}

export function connectReadBuffered(options: NetConnectOpts): Socket {
  const reader: Reader = { onChunk: undefined };
  const socket = connect({
    ...options,
    onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: readerCallback(reader) },
  } as NetConnectOpts);
  socket.pause();
  readers.set(socket, reader);
  return socket;
}

/**
 * net.Socket keeps its `onread` option under these symbols (lib/net.js), and its pause()/resume()
 * and the read callback (stream_base_commons.js) look there; an accepted socket has them as null.
 */
const ONREAD_SYMBOLS = ['kBuffer', 'kBufferCb', 'kBufferGen'] as const;

interface UserBufferHandle {
  reading?: boolean;
  useUserBuffer?(buffer: Uint8Array): void;
}

/**
 * Gives a socket that was accepted rather than connected (a passive client's data connection, an
 * active backend's) the same reused read buffer as connectReadBuffered: net.Server has no `onread`
 * option, so this does what net.Socket's constructor does with one, on the paused socket
 * (pauseOnConnect) before its first read. True when it did; false leaves the socket as it was (a
 * Node whose net.Socket no longer looks like this, bytes already read, a TLS socket), and the relay
 * then streams it as before.
 */
export function adoptReadBuffer(socket: Socket): boolean {
  if (readers.has(socket)) return true;
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (
    socket instanceof TLSSocket ||
    !handle ||
    typeof handle.useUserBuffer !== 'function' ||
    handle.reading === true ||
    socket.readableLength > 0 ||
    socket.readableEnded ||
    socket.destroyed
  ) {
    return false;
  }
  const own = socket as unknown as Record<symbol, unknown>;
  const symbols = Object.getOwnPropertySymbols(socket);
  const [kBuffer, kBufferCb, kBufferGen] = ONREAD_SYMBOLS.map((name) =>
    symbols.find((symbol) => symbol.description === name),
  );
  if (!kBuffer || !kBufferCb || !kBufferGen) return false;
  if (own[kBuffer] != null || own[kBufferCb] != null || own[kBufferGen] != null) return false;
  const reader: Reader = { onChunk: undefined };
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  handle.useUserBuffer(buffer);
  own[kBuffer] = buffer;
  own[kBufferCb] = readerCallback(reader);
  socket.pause();
  readers.set(socket, reader);
  return true;
}

export function isReadBuffered(socket: Socket): boolean {
  return readers.has(socket);
}

/**
 * Writes everything `source` (from connectReadBuffered) reads into `sink`, one chunk at a time: the
 * source resumes only once the sink has taken the chunk, so backpressure is the sink's write speed
 * and the shared buffer is never overwritten early. `copy` hands the sink copies
 * instead (for sinks that keep chunks after taking them, such as transforms); `holdTail` holds short
 * chunks back briefly (tail-hold.ts). Resolves at the source's EOF once the sink has taken every
 * chunk; `endHead` also ends the sink then and waits until it has finished, `onEnd` runs in the same
 * tick as the last write otherwise (and `beforeLastWrite` in the same tick before it). Past
 * TURN_BUDGET_BYTES since it last yielded, it resumes reading only in the loop's check phase.
 */
export function pumpInto(
  source: Socket,
  sink: NodeJS.WritableStream & { destroy(error?: Error): unknown; readonly writableLength: number },
  options: {
    copy: boolean;
    endHead: boolean;
    holdTail: boolean;
    /** Without `endHead`: runs at the source's EOF right after the last chunk went to the sink. */
    onEnd?: () => void;
    /** Runs at the source's EOF before the last (held) chunk goes to the sink: where it is corked. */
    beforeLastWrite?: () => void;
    onProgress: (bytes: number) => void;
    signal: AbortSignal;
  },
): Promise<void> {
  const reader = readers.get(source);
  if (!reader) return Promise.reject(new Error('socket was not created by connectReadBuffered'));
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    // Bytes read since this relay last let the event loop go round, and the resume that does so.
    let sinceYield = 0;
    let yielding: NodeJS.Immediate | undefined;
    const resumeAfterYield = () => {
      yielding = undefined;
      if (!settled && !source.destroyed) source.resume();
    };
    const resumeReading = () => {
      if (sinceYield < TURN_BUDGET_BYTES) {
        source.resume();
        return;
      }
      sinceYield = 0;
      yielding = setImmediate(resumeAfterYield);
    };
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearImmediate(yielding);
      yielding = undefined;
      hold?.dispose();
      options.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    // Writes on their way: reading waits until there are none. A chunk still in the shared buffer
    // may be queued behind a held copy, and the copy's callback must not let a read overwrite it.
    let inFlight = 0;
    const written = (err?: Error | null) => {
      inFlight--;
      if (err) settle(err);
      else if (inFlight === 0 && !settled && !source.destroyed && !yielding) resumeReading();
    };
    const write = (chunk: Buffer) => {
      inFlight++;
      sink.write(chunk, written);
    };
    // A held chunk is a copy, so reading may go on while it is held; released from a timer, it is
    // written like any other chunk and reading waits for it.
    const hold = options.holdTail
      ? new TailHold((chunk) => {
          write(chunk);
          source.pause();
        })
      : undefined;
    const onAbort = () => settle(new Error('aborted'));
    options.signal.addEventListener('abort', onAbort, { once: true });
    source.on('error', settle);
    sink.on('error', settle);
    source.on('end', () => {
      options.beforeLastWrite?.();
      hold?.release();
      if (options.endHead) {
        sink.end();
      } else {
        options.onEnd?.();
        settle();
      }
    });
    if (options.endHead) sink.on('finish', () => settle());
    reader.onChunk = (chunk) => {
      sinceYield += chunk.length;
      options.onProgress(chunk.length);
      if (hold?.offer(chunk, true)) return inFlight === 0;
      write(options.copy ? Buffer.from(chunk) : chunk);
      return false;
    };
    source.resume();
  });
}
