import { Transform, type TransformCallback } from 'node:stream';

/**
 * TransferRate: passes bytes on no faster than `bytesPerSecond`, after the first `freeBytes` (which
 * go at full speed, as ProFTPD's `kbytes:free-bytes` form allows). Each chunk is held until the time
 * the rate allows for it; the callback waits with it, so backpressure reaches the sender.
 */
export class Throttle extends Transform {
  private passed = 0;
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly freeBytes = 0,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.passed += chunk.length;
    const limited = Math.max(0, this.passed - this.freeBytes);
    const due = this.started + (limited / this.bytesPerSecond) * 1000;
    const wait = due - performance.now();
    if (wait <= 1) {
      callback(null, chunk);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      callback(null, chunk);
    }, wait);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    callback(error);
  }
}
