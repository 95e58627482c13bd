import type { Socket } from 'node:net';
import type { Duplex, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { TLSSocket } from 'node:tls';
import { DataRelayError } from './data-errors.js';
import { adoptReadBuffer, isReadBuffered, pumpInto, TURN_BUDGET_BYTES } from './read-buffer.js';
import { canSplice, SpliceNotStarted, spliceData } from './splice-relay.js';
import { TailHoldTransform } from './tail-hold.js';
import { cork } from './tcp-cork.js';

/**
 * Buffer sizes of data sockets. Node's default (16 KiB) is below one 64 KiB read, so nearly every
 * write would pause the source until the sink drained; 1 MiB keeps both sides streaming while it
 * still bounds memory per transfer.
 */
export const DATA_HIGH_WATER_MARK = 1024 * 1024;

/** How long a TLS data connection's peer may take to close its side after our close_notify. */
const TLS_CLOSE_WAIT_MS = 2000;

/** TLS sinks whose close waits for the peer in the background (see lingerForPeer). */
const lingering = new WeakSet<Socket>();

/** How a relayed data connection's sink was finally closed, for the logs. */
export type SinkClose = 'with-last-write' | 'peer-closed' | 'close-wait-expired';

/**
 * Copies one data connection into the other until EOF, with backpressure (a slow reader slows the
 * writer's peer, never the worker), then closes both. Bytes are copied verbatim: no ASCII conversion,
 * the backend already did it. `onProgress` hears of every chunk (TimeoutStalled), or of the bytes of
 * every ~100 ms when the kernel relays them (splice-relay.ts). `through`
 * rewrites or paces the bytes on the way (a LIST listing translated to MLSD, TransferRate). Resolves
 * with the number of bytes read from the source once the sink has the last byte and its end.
 *
 * The sink is ended in the same tick as the source's EOF is read: a client such as Net::FTP looks for
 * the data connection's end without waiting right after its last read, and sends ABOR when it is not
 * there yet. `onSinkClosed` hears how the sink was closed, possibly after this resolved (a TLS peer's
 * close is waited for in the background).
 */
export async function relayData(
  source: Socket,
  sink: Socket,
  signal: AbortSignal,
  onProgress: (bytes: number) => void = () => {},
  through: Transform[] = [],
  onSinkClosed: (how: SinkClose) => void = () => {},
): Promise<number> {
  let handedOver = false;
  let closedWithLastWrite = false;
  let endTurns: (() => void) | undefined;
  // Runs right behind the last write, in the same tick: the client sees the end with the last byte.
  const closeWithLastWrite = () => {
    closedWithLastWrite = closeIfFlushed(sink);
  };
  // Right before the last write: corked, the sink's last bytes wait in the kernel for the close, and
  // the FIN leaves with them in one segment (tcp-cork.ts); the client cannot read one without the other.
  const corkForLastWrite = () => {
    cork(sink);
  };
  try {
    // Plain to plain with nothing to rewrite or pace: the kernel moves the bytes (splice-relay.ts).
    // The sink, corked all along, is closed as soon as the last byte is in its kernel buffer.
    if (through.length === 0 && canSplice(source, sink)) {
      const bytes = await spliceData(source, sink, signal, onProgress).catch((err: unknown) => {
        if (err instanceof SpliceNotStarted) return undefined;
        throw err;
      });
      if (bytes !== undefined) {
        sink.destroy();
        onSinkClosed('with-last-write');
        return source.bytesRead + bytes;
      }
    }
    if (sink instanceof TLSSocket) sink.resume();
    // TLS records are written as they come; holding a short one back only pays off for a plain socket.
    const holdTail = !(sink instanceof TLSSocket);
    // Accepted sockets (a passive client's upload) read into a reused buffer too, where Node allows;
    // TLS sources into staging buffers, unless their bytes are rewritten or paced on the way.
    if (
      isReadBuffered(source) ||
      ((through.length === 0 || !(source instanceof TLSSocket)) && adoptReadBuffer(source))
    ) {
      const stages: Duplex[] = [
        ...through,
        ...(holdTail && through.length > 0
          ? [new TailHoldTransform(closeWithLastWrite, corkForLastWrite)]
          : []),
      ];
      const tail = stages.length > 0 ? pipeline([...stages, sink], { signal, end: false }) : undefined;
      await pumpInto(source, (stages[0] ?? sink) as Duplex, {
        copy: stages.length > 0,
        // The last stage ends when its input does; the sink is ended here, not by the pipeline.
        endHead: stages.length > 0,
        holdTail: holdTail && stages.length === 0,
        ...(stages.length === 0 && holdTail ? { beforeLastWrite: corkForLastWrite } : {}),
        ...(stages.length === 0 ? { onEnd: closeWithLastWrite } : {}),
        onProgress,
        signal,
      });
      await tail;
    } else {
      const stages = [
        ...through,
        ...(holdTail ? [new TailHoldTransform(closeWithLastWrite, corkForLastWrite)] : []),
      ];
      const piping = pipeline([source, ...stages, sink], { signal, end: false });
      // Attached in the same tick as the pipe, so no chunk flows before either listener is there.
      // First among the data listeners: the sink is corked before the pipe writes the chunk.
      const turn = turnBatches(source, sink, (stages[0] ?? sink) as Duplex, holdTail);
      endTurns = turn.dispose;
      source.prependListener('data', (chunk: Buffer) => {
        turn.chunk(chunk.length);
        onProgress(chunk.length);
      });
      await piping;
    }
    if (closedWithLastWrite) onSinkClosed('with-last-write');
    else handedOver = await endSink(sink, signal, onSinkClosed);
    return source.bytesRead;
  } catch (err) {
    throw new DataRelayError(
      signal.aborted ? 'transfer aborted' : `data relay failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    endTurns?.();
    source.destroy();
    if (!handedOver) sink.destroy();
  }
}

/**
 * The stream path's work per turn of the event loop (a TLS source whose bytes are rewritten or paced
 * on the way, or a socket that could not be given a reused buffer). A TLS source hands over one
 * record (16 KiB at most) per `data` event, several of them for each read from its socket, all in
 * one poll phase; written one by one to a plain sink, each is a write(2) of its own. With `corkSink`
 * the sink is corked from the first of them until the loop's check phase, so they go out as one
 * writev(2). (A TLS sink is left alone: it would copy the batch into one buffer to encrypt it, and
 * measured no better.) The sink is uncorked at the source's end, before anything reacts to it, so
 * that the end-of-data close still comes right behind the last write (closeIfFlushed).
 *
 * Past TURN_BUDGET_BYTES in one turn the source is paused until the check phase, as pumpInto does
 * (read-buffer.ts): otherwise a batch grew to the sink's high-water mark, 1 MiB decrypted and
 * relayed per transfer before the worker read another socket. It resumes there only when the pipe
 * does not wait for a drain itself (the drain resumes it then), so backpressure stays the sink's.
 * Returns what to call for every chunk, with its length, and what cancels a pending end of turn
 * (the relay is over).
 */
function turnBatches(
  source: Socket,
  sink: Socket,
  head: Duplex,
  corkSink: boolean,
): { chunk: (bytes: number) => void; dispose: () => void } {
  let inTurn = false;
  let ending: NodeJS.Immediate | undefined;
  let corked = false;
  let moved = 0;
  let paused = false;
  const endTurn = () => {
    clearImmediate(ending);
    ending = undefined;
    inTurn = false;
    moved = 0;
    if (corked) {
      corked = false;
      if (!sink.destroyed) sink.uncork();
    }
    if (paused) {
      paused = false;
      if (!source.destroyed && !head.writableNeedDrain) source.resume();
    }
  };
  source.prependOnceListener('end', endTurn);
  const chunk = (bytes: number) => {
    if (!inTurn) {
      inTurn = true;
      ending = setImmediate(endTurn);
      if (corkSink && !sink.destroyed) {
        corked = true;
        sink.cork();
      }
    }
    moved += bytes;
    if (moved >= TURN_BUDGET_BYTES && !paused) {
      paused = true;
      source.pause();
    }
  };
  const dispose = () => {
    clearImmediate(ending);
    ending = undefined;
    paused = false;
  };
  return { chunk, dispose };
}

/**
 * A plain TCP sink whose bytes all reached the kernel is closed at once: close(2) sends them and
 * then the FIN, right behind the last write(2) as ProFTPD and mod_proxy do, whereas end() would wait
 * a turn of the event loop before its shutdown(2). True when it was closed.
 */
function closeIfFlushed(sink: Socket): boolean {
  if (sink instanceof TLSSocket || sink.writableLength > 0 || sink.destroyed) return false;
  sink.destroy();
  return true;
}

/**
 * Ends the sink after the last byte when closeIfFlushed could not: a sink with bytes still queued in
 * Node ends with them. A TLS sink sends its close_notify, and then waits for its peer's close in the
 * background (true: the socket was handed over), so that neither the final reply nor a client that
 * waits for it before closing is held up.
 */
async function endSink(
  sink: Socket,
  signal: AbortSignal,
  onSinkClosed: (how: SinkClose) => void,
): Promise<boolean> {
  sink.end();
  await finished(sink, { signal, readable: false });
  if (!(sink instanceof TLSSocket)) {
    onSinkClosed('with-last-write');
    return false;
  }
  lingerForPeer(sink, onSinkClosed);
  return true;
}

/**
 * After our close_notify on a TLS data connection, waits (briefly) for the peer to close its side,
 * then destroys the socket. A TLS 1.3 server sends session tickets on every connection, which we
 * never read on the side we only write to; closing a socket with unread bytes sends a RST instead of
 * a FIN, and a RST that overtakes the last upload bytes makes the server drop them (vsftpd then
 * answers 426). Reading (and dropping) what the peer sends and letting it close first avoids that.
 */
function lingerForPeer(sink: TLSSocket, onSinkClosed: (how: SinkClose) => void): void {
  if (sink.destroyed || sink.readableEnded) {
    sink.destroy();
    onSinkClosed('peer-closed');
    return;
  }
  lingering.add(sink);
  const done = (how: SinkClose) => {
    clearTimeout(timer);
    sink.off('end', onEnd);
    sink.off('close', onEnd);
    lingering.delete(sink);
    sink.destroy();
    onSinkClosed(how);
  };
  const onEnd = () => done('peer-closed');
  // unref: a worker shutting down does not wait for a peer that never closes.
  const timer = setTimeout(() => done('close-wait-expired'), TLS_CLOSE_WAIT_MS).unref();
  sink.once('end', onEnd);
  sink.once('close', onEnd);
  sink.resume();
}

/**
 * Closes a data socket at the end of a transfer, unless the relay has handed it to its background
 * wait for the TLS peer's close (which destroys it when that wait ends).
 */
export function releaseDataSocket(socket: Socket): void {
  if (!lingering.has(socket)) socket.destroy();
}
