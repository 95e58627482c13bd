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
  /** A TLS source's: its records are staged here rather than handed over one by one. */
  batch?: RecordBatch;
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
 * Node whose net.Socket no longer looks like this, bytes already read), and the relay then streams
 * it as before. A TLS socket gets staging buffers instead (RecordBatch, adoptTlsReadBuffer).
 */
export function adoptReadBuffer(socket: Socket): boolean {
  if (readers.has(socket)) return true;
  if (socket instanceof TLSSocket) return adoptTlsReadBuffer(socket);
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (
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
  const keys = onreadSymbols(socket);
  if (!keys) return false;
  const [kBuffer, kBufferCb] = keys;
  const reader: Reader = { onChunk: undefined };
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  handle.useUserBuffer(buffer);
  own[kBuffer] = buffer;
  own[kBufferCb] = readerCallback(reader);
  socket.pause();
  readers.set(socket, reader);
  return true;
}

/** net's `onread` symbols of a socket that has none set yet, or undefined. */
function onreadSymbols(socket: Socket): [symbol, symbol, symbol] | undefined {
  const own = socket as unknown as Record<symbol, unknown>;
  const symbols = Object.getOwnPropertySymbols(socket);
  const [kBuffer, kBufferCb, kBufferGen] = ONREAD_SYMBOLS.map((name) =>
    symbols.find((symbol) => symbol.description === name),
  );
  if (!kBuffer || !kBufferCb || !kBufferGen) return undefined;
  if (own[kBuffer] != null || own[kBufferCb] != null || own[kBufferGen] != null) return undefined;
  return [kBuffer, kBufferCb, kBufferGen];
}

/**
 * The largest piece TLSWrap hands over at once: one record's plaintext (its ClearOut reads 16 KiB
 * at a time, RFC 8446 5.1's maximum record size).
 */
const TLS_RECORD_BYTES = 16 * 1024;

/**
 * Size of each of a TLS source's two staging buffers. TLSWrap decrypts every record of a socket
 * read (at most libuv's 64 KiB, plus a record left over from the read before) before it looks at a
 * pause, so a stage holds one turn's TURN_BUDGET_BYTES plus those: 64 + 80 KiB, well within this.
 */
export const TLS_STAGE_BYTES = 256 * 1024;

type Stage = 0 | 1;

/**
 * A TLS source's records, read straight into one of two reused staging buffers (net's `onread` with
 * a buffer function: TLSWrap copies each record to where the function last pointed) and written to
 * the sink as one batch per turn of the event loop, or as soon as a stage has no room for another
 * record. Why not read-buffer.ts's pause-until-written rule: TLSWrap goes on delivering the records
 * of one socket read after the callback asked to pause, so each must land somewhere new.
 *
 * The bound, enforced in nextBuffer: never more than the two stages (2 × TLS_STAGE_BYTES); one is
 * filled while the other may be on its way to the sink. When both are taken (a Node that delivers
 * more after a pause than the stage has room for), a record goes to the sink as a buffer of its own
 * instead, and reading stays paused until a stage is free.
 */
export class RecordBatch {
  private readonly stages: [Buffer, Buffer] = [
    Buffer.allocUnsafe(TLS_STAGE_BYTES),
    Buffer.allocUnsafe(TLS_STAGE_BYTES),
  ];
  /** The stages being written; the one being filled is never among them while it holds bytes. */
  private readonly busy: [boolean, boolean] = [false, false];
  private filling: Stage = 0;
  private fill = 0;
  /** Records that could not be staged, written on their own (for the bound's test). */
  spilled = 0;
  /** Bytes read before the reader took over (the stream had buffered them), written first. */
  head: Buffer[] = [];
  /** The pump's: takes a record's length, true to go on reading. */
  onRecord: ((length: number) => boolean) | undefined;
  /** The pump's: writes a chunk whose memory is free at once or a stage's batch (`stage`). */
  write: ((bytes: Buffer, stage?: Stage) => void) | undefined;

  /** Bytes in the stage being filled: at most TLS_STAGE_BYTES. */
  get staged(): number {
    return this.fill;
  }

  /** net's kBufferGen: where TLSWrap copies the next record. */
  nextBuffer(): Buffer {
    if (!this.busy[this.filling]) {
      if (TLS_STAGE_BYTES - this.fill >= TLS_RECORD_BYTES)
        return this.stages[this.filling].subarray(this.fill);
      this.unloadUntilPumped();
      this.flush();
      if (!this.busy[this.filling]) return this.stages[this.filling];
    }
    return Buffer.allocUnsafe(TLS_RECORD_BYTES);
  }

  /** net's kBufferCb: a record of `length` bytes has landed in `buffer` (the last nextBuffer). */
  take(length: number, buffer: Uint8Array): boolean {
    const stage = this.stages[this.filling];
    if (
      !this.busy[this.filling] &&
      buffer.buffer === stage.buffer &&
      buffer.byteOffset === stage.byteOffset + this.fill
    ) {
      this.fill += length;
    } else if (!this.busy[this.filling] && TLS_STAGE_BYTES - this.fill >= length) {
      // Landed where nextBuffer pointed before a flush moved the filling stage on.
      stage.set(buffer.subarray(0, length), this.fill);
      this.fill += length;
    } else {
      // No stage can take it: what is staged goes first, then the record as a copy of its own.
      this.unloadUntilPumped();
      this.flush();
      this.spilled++;
      this.head.push(Buffer.from(buffer.subarray(0, length)));
      this.writeHead();
    }
    return this.onRecord?.(length) ?? false;
  }

  /** What is staged, or undefined. */
  peek(): Buffer | undefined {
    return this.fill > 0 ? this.stages[this.filling].subarray(0, this.fill) : undefined;
  }

  /** Forgets what peek returned: the caller took a copy of it. */
  drop(): void {
    this.fill = 0;
  }

  /** Writes what is staged as one batch, and moves filling on to the other stage. */
  flush(): void {
    if (this.fill === 0 || !this.write) return;
    this.writeHead();
    const stage = this.filling;
    const batch = this.stages[stage].subarray(0, this.fill);
    this.busy[stage] = true;
    this.filling = stage === 0 ? 1 : 0;
    this.fill = 0;
    this.write(batch, stage);
  }

  /** Before the pump took over, a full stage is emptied into `head` (a copy): it has no sink yet. */
  private unloadUntilPumped(): void {
    if (this.write || this.fill === 0) return;
    this.head.push(Buffer.from(this.stages[this.filling].subarray(0, this.fill)));
    this.fill = 0;
  }

  /** A stage's batch was written: it may be filled again. */
  written(stage: Stage): void {
    this.busy[stage] = false;
  }

  /** True when the stage being filled can take records. */
  get ready(): boolean {
    return !this.busy[this.filling];
  }

  writeHead(): void {
    if (!this.write) return;
    const head = this.head;
    this.head = [];
    for (const chunk of head) this.write(chunk);
  }
}

/**
 * adoptReadBuffer for a TLS socket (a data connection, after its handshake): its TLSWrap handle
 * takes `useUserBuffer` as net's handles do, and net's pause()/resume() and read callback then work
 * on it as on a connected socket with `onread`. Whatever the stream had already decrypted and
 * buffered is taken first and written before the records. False when the socket does not look as
 * expected (the relay then streams it).
 */
function adoptTlsReadBuffer(socket: TLSSocket): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (
    !handle ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof (handle as { readStop?: unknown }).readStop !== 'function' ||
    socket.readableEnded ||
    socket.destroyed ||
    socket.listenerCount('data') > 0 ||
    socket.readableFlowing === true
  ) {
    return false;
  }
  const keys = onreadSymbols(socket);
  if (!keys) return false;
  const [kBuffer, kBufferCb, kBufferGen] = keys;
  const own = socket as unknown as Record<symbol, unknown>;
  const batch = new RecordBatch();
  const reader: Reader = { onChunk: undefined, batch };
  const first = batch.nextBuffer();
  handle.useUserBuffer(first);
  own[kBuffer] = first;
  own[kBufferCb] = (length: number, buffer: Uint8Array) => batch.take(length, buffer);
  own[kBufferGen] = () => batch.nextBuffer();
  // pause() stops the handle's reading now that kBuffer is set (net.Socket.prototype.pause).
  socket.pause();
  while (socket.readableLength > 0) {
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) break;
    batch.head.push(chunk);
  }
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
  if (reader.batch) return pumpBatches(source, reader.batch, sink, options);
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

let batchedRelays = 0;

/** How many relays have read a TLS source into staging buffers in this process (for the tests). */
export function batchedTlsRelayCount(): number {
  return batchedRelays;
}

/**
 * pumpInto for a TLS source (RecordBatch): the records of a turn go to the sink as one write when
 * the loop reaches its check phase, as they arrive past TURN_BUDGET_BYTES (reading then waits for
 * that phase, so other sockets are served first), or when a stage is full. Reading pauses while no
 * stage is free or the sink is above its high-water mark, and resumes when a stage was written or
 * the sink drained. A batch of a turn in which the source ran dry may be its last: it is held back
 * like pumpInto's short chunks (tail-hold.ts), so an EOF right behind goes out with it.
 */
function pumpBatches(
  source: Socket,
  batch: RecordBatch,
  sink: Parameters<typeof pumpInto>[1],
  options: Parameters<typeof pumpInto>[2],
): Promise<void> {
  batchedRelays++;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let sinceYield = 0;
    // Reading was paused by this pump (the callback returned false), and the end of the turn.
    let paused = false;
    let turnEnd: NodeJS.Immediate | undefined;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearImmediate(turnEnd);
      turnEnd = undefined;
      hold?.dispose();
      batch.onRecord = undefined;
      batch.write = undefined;
      sink.off('drain', resumeReading);
      options.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const resumeReading = () => {
      if (!paused || settled || source.destroyed || turnEnd || !batch.ready) return;
      if ((sink as { writableNeedDrain?: boolean }).writableNeedDrain) return;
      paused = false;
      source.resume();
    };
    // Whatever is held back was read before these bytes: it goes first.
    batch.write = (bytes, stage) => {
      hold?.release();
      sink.write(bytes, (err?: Error | null) => {
        if (stage !== undefined) batch.written(stage);
        if (err) settle(err);
        else resumeReading();
      });
    };
    const hold = options.holdTail ? new TailHold((chunk) => batch.write?.(chunk)) : undefined;
    const writeStaged = (mayHold: boolean) => {
      const staged = batch.peek();
      if (!staged) return;
      if (options.copy || (mayHold && hold?.offer(staged, true))) {
        if (options.copy) {
          hold?.release();
          batch.writeHead();
          batch.write?.(Buffer.from(staged));
        }
        batch.drop();
        return;
      }
      hold?.release();
      batch.flush();
    };
    const endTurn = () => {
      turnEnd = undefined;
      sinceYield = 0;
      if (settled) return;
      // Still reading at the end of the turn: the source ran dry, and this may be its last batch.
      writeStaged(!paused);
      resumeReading();
    };
    batch.onRecord = (length) => {
      sinceYield += length;
      options.onProgress(length);
      turnEnd ??= setImmediate(endTurn);
      if (
        sinceYield < TURN_BUDGET_BYTES &&
        batch.ready &&
        !(sink as { writableNeedDrain?: boolean }).writableNeedDrain
      ) {
        return true;
      }
      paused = true;
      return false;
    };
    const onAbort = () => settle(new Error('aborted'));
    options.signal.addEventListener('abort', onAbort, { once: true });
    source.on('error', settle);
    sink.on('error', settle);
    sink.on('drain', resumeReading);
    source.on('end', () => {
      if (settled) return;
      options.beforeLastWrite?.();
      hold?.release();
      batch.writeHead();
      writeStaged(false);
      if (options.endHead) {
        sink.end();
      } else {
        options.onEnd?.();
        settle();
      }
    });
    if (options.endHead) sink.on('finish', () => settle());
    let headBytes = 0;
    for (const chunk of batch.head) headBytes += chunk.length;
    if (headBytes > 0) options.onProgress(headBytes);
    batch.writeHead();
    source.resume();
  });
}
