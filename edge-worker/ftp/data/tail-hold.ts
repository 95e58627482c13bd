import { Transform, type TransformCallback } from 'node:stream';

/**
 * A short read is often a transfer's last: the sender has nothing more right now, and its FIN may be
 * right behind. Node sees that FIN only on a later turn of its event loop (libuv stops reading at a
 * short read), too late for a client such as Net::FTP, which looks for the data connection's end
 * without waiting right after its last read and sends ABOR when it is not there yet. So a short chunk
 * is held back for up to TAIL_HOLD_MS, or until the next read: an EOF in that time is written with it,
 * and the data connection ends in the same tick as its last byte, as it does behind ProFTPD and
 * mod_proxy. Bulk transfers read full buffers and pass straight on; a sender that pauses after a
 * short chunk delays it by at most TAIL_HOLD_MS.
 */
export const TAIL_HOLD_MS = 2;
/** Larger chunks pass at once: a client that reads once and then checks for EOF reads less than this. */
export const TAIL_HOLD_MAX_BYTES = 64 * 1024;

export class TailHold {
  private held: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  /** `write` sends a chunk on (a held one on release); it is never called after dispose(). */
  constructor(private readonly write: (chunk: Buffer) => void) {}

  /**
   * Passes on what was held, then holds `chunk` (a copy when `copy`) if it is short: true when it
   * did, false when the caller must send `chunk` itself.
   */
  offer(chunk: Buffer, copy: boolean): boolean {
    this.release();
    if (chunk.length > TAIL_HOLD_MAX_BYTES) return false;
    this.held = copy ? Buffer.from(chunk) : chunk;
    // Timers run before the poll phase of the loop turn they expire in: releasing from the check phase
    // after it lets an EOF that arrived during a stall of the event loop still be read first.
    this.timer = setTimeout(() => {
      this.immediate = setImmediate(() => this.release());
    }, TAIL_HOLD_MS);
    return true;
  }

  /** Sends the held chunk on now (at EOF, before the end; or when the hold time is over). */
  release(): void {
    this.cancel();
    const held = this.held;
    this.held = undefined;
    if (held) this.write(held);
  }

  dispose(): void {
    this.cancel();
    this.held = undefined;
  }

  private cancel(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

/** TailHold as the last stage of a pipeline, for sources that are ordinary streams. */
export class TailHoldTransform extends Transform {
  private readonly hold = new TailHold((chunk) => this.push(chunk));

  /**
   * `beforeLast` runs at the end of the input, before the last (held) chunk goes on; `onLastPassed`
   * in the same tick after it, once nothing is buffered here.
   */
  constructor(
    private readonly onLastPassed: () => void = () => {},
    private readonly beforeLast: () => void = () => {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.hold.offer(chunk, false)) this.push(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.beforeLast();
    this.hold.release();
    if (this.readableLength === 0) this.onLastPassed();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.hold.dispose();
    callback(error);
  }
}
