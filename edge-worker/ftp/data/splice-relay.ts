import { Socket } from 'node:net';
import { constants } from 'node:os';
import { TLSSocket } from 'node:tls';
import { cork, dataSocketAddon, socketFd, tcpCorkStatus, uncork } from './tcp-cork.js';

/**
 * A kernel-level relay for plain data connections: splice(2) through a pipe, on a thread of the
 * native addon's own (native/tcp-cork/src/splice_relay.c), so the bytes never enter Node. It is used
 * only when Node has nothing of the transfer in hand: the source not reading and nothing buffered
 * from it, nothing queued on the sink (canSplice). The thread works on dup(2)s of the descriptors
 * and closes them before it reports its end, so Node may destroy its sockets at any time without
 * the thread touching a reused descriptor, and a socket Node closes after that end really closes.
 * Without the addon, off Linux, or with FTPX_SPLICE_RELAY=off, relayData keeps its JS path.
 */
type SpliceCallback = (
  kind: 'progress' | 'done',
  bytesIn: number,
  bytesOut: number,
  errno: number,
  where: string,
) => void;

interface SpliceBinding {
  spliceStart(sourceFd: number, sinkFd: number, callback: SpliceCallback): object;
  spliceCancel(handle: object): void;
}

/** The environment variable that turns the splice relay off (docs/operating.md). */
export const SPLICE_RELAY_ENV = 'FTPX_SPLICE_RELAY';

/** Which relay moves plain data connections, and why not splice (for the start-up log line). */
export type SpliceRelayStatus = { available: true } | { available: false; reason: string };

let started = 0;

function splice(): SpliceBinding | SpliceRelayStatus {
  if (process.env[SPLICE_RELAY_ENV] === 'off') {
    return { available: false, reason: `${SPLICE_RELAY_ENV}=off` };
  }
  const addon = dataSocketAddon();
  if (!addon) {
    const cork = tcpCorkStatus();
    return { available: false, reason: cork.available ? 'the addon did not load' : cork.reason };
  }
  if (typeof addon.spliceStart !== 'function' || typeof addon.spliceCancel !== 'function') {
    return {
      available: false,
      reason: 'the addon was built without the splice relay (rebuild it: npm install)',
    };
  }
  return addon as unknown as SpliceBinding;
}

export function spliceRelayStatus(): SpliceRelayStatus {
  const found = splice();
  return 'spliceStart' in found ? { available: true } : found;
}

/** How many relays have used splice in this process (the tests prove the path was taken). */
export function splicedRelayCount(): number {
  return started;
}

interface HandleState {
  reading?: boolean;
}

/**
 * True when `source` → `sink` can be spliced: both plain TCP sockets with a descriptor, Node not
 * reading the source (paused from creation: pauseOnConnect, connectReadBuffered) with nothing read
 * and buffered, nothing queued to write on the sink, and the addon available.
 */
export function canSplice(source: Socket, sink: Socket): boolean {
  if (!('spliceStart' in splice())) return false;
  for (const socket of [source, sink]) {
    if (!(socket instanceof Socket) || socket instanceof TLSSocket) return false;
    if (socket.destroyed || socket.connecting || socketFd(socket) === undefined) return false;
  }
  const handle = (source as unknown as { _handle?: HandleState | null })._handle;
  return (
    handle?.reading !== true &&
    source.readableLength === 0 &&
    !source.readableEnded &&
    sink.writableLength === 0 &&
    !sink.writableEnded
  );
}

/** spliceData could not start its thread (nothing was moved): the caller relays in JS instead. */
export class SpliceNotStarted extends Error {}

/** The name of an errno (ECONNRESET), as Node's own socket errors say it. */
function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/**
 * Splices everything `source` sends into `sink` until the source's EOF with every byte handed to the
 * sink's kernel buffer; resolves with the bytes moved. The sink is corked for the whole transfer:
 * full segments still leave at once, and the last bytes wait for the caller's close of the sink,
 * so they and the FIN leave in one segment (tcp-cork.ts). `onProgress` hears of the bytes read, in
 * batches of at most ~100 ms. Rejects with `read ECONNRESET`, `write EPIPE`... like a Node socket,
 * or `aborted`; it settles only once the thread has let go of both sockets. Rejects with
 * SpliceNotStarted, having touched nothing, when the thread could not be started.
 */
export function spliceData(
  source: Socket,
  sink: Socket,
  signal: AbortSignal,
  onProgress: (bytes: number) => void,
): Promise<number> {
  const binding = splice();
  const sourceFd = socketFd(source);
  const sinkFd = socketFd(sink);
  if (!('spliceStart' in binding) || sourceFd === undefined || sinkFd === undefined) {
    return Promise.reject(new Error('splice relay is not available for these sockets'));
  }
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<number>((resolve, reject) => {
    let reported = 0;
    let socketError: Error | undefined;
    // Node may still see an error on a socket (the sink, when Node reads it); the thread sees it too
    // and ends. Listened to so that it is not an uncaught 'error', and preferred in the message.
    const onSocketError = (err: Error) => {
      socketError ??= err;
      binding.spliceCancel(handle);
    };
    const onAbort = () => binding.spliceCancel(handle);
    const callback: SpliceCallback = (kind, bytesIn, _bytesOut, errno, where) => {
      if (bytesIn > reported) {
        const moved = bytesIn - reported;
        reported = bytesIn;
        onProgress(moved);
      }
      if (kind !== 'done') return;
      signal.removeEventListener('abort', onAbort);
      source.off('error', onSocketError);
      sink.off('error', onSocketError);
      if (where === 'eof') resolve(bytesIn);
      else if (where === 'cancelled')
        reject(signal.aborted ? new Error('aborted') : (socketError ?? new Error('cancelled')));
      else reject(socketError ?? new Error(`${where} ${errnoName(errno)}`));
    };
    cork(sink);
    let handle: object;
    try {
      handle = binding.spliceStart(sourceFd, sinkFd, callback);
    } catch (err) {
      // No thread, pipe or descriptor to spare (EMFILE, EAGAIN): the JS relay does this one.
      uncork(sink);
      reject(new SpliceNotStarted((err as Error).message));
      return;
    }
    started++;
    signal.addEventListener('abort', onAbort, { once: true });
    source.on('error', onSocketError);
    sink.on('error', onSocketError);
  });
}
