/**
 * A FIFO that producers push to and one consumer awaits. `close()` ends it (consumers then get
 * undefined). `take(predicate)` lets a transfer pull an ABOR out of order while other commands wait.
 */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private waiters: (() => void)[] = [];
  private matchers: { predicate: (item: T) => boolean; deliver: (item: T | undefined) => void }[] = [];
  private closed = false;

  constructor(private readonly onSizeChange?: (size: number) => void) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.closed) return;
    const matcher = this.matchers.find((candidate) => candidate.predicate(item));
    if (matcher) {
      this.matchers = this.matchers.filter((candidate) => candidate !== matcher);
      matcher.deliver(item);
      return;
    }
    this.items.push(item);
    this.onSizeChange?.(this.items.length);
    this.wake();
  }

  close(): void {
    this.closed = true;
    const matchers = this.matchers;
    this.matchers = [];
    for (const matcher of matchers) matcher.deliver(undefined);
    this.wake();
  }

  /** Drops every queued item (commands pipelined in plain text after AUTH TLS). */
  clear(): void {
    this.items.length = 0;
  }

  /** Wakes whoever waits in `ready()` without adding an item: something else needs their attention. */
  interrupt(): void {
    this.wake();
  }

  /** Resolves when an item is available, the queue is closed, or `interrupt()` is called. */
  async ready(): Promise<void> {
    if (this.items.length > 0 || this.closed) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.items.length > 0) return this.shift(0);
      if (this.closed) return undefined;
      await this.ready();
    }
  }

  /** Removes and returns the first item matching the predicate, if any, without waiting. */
  take(predicate: (item: T) => boolean): T | undefined {
    const index = this.items.findIndex(predicate);
    return index < 0 ? undefined : this.shift(index);
  }

  /**
   * Resolves with the first item matching the predicate, taken out of order, as soon as one is queued;
   * with undefined when the queue closes. Aborting the signal withdraws the wait, so a later item is
   * left for `next()`.
   */
  waitFor(predicate: (item: T) => boolean, signal: AbortSignal): Promise<T | undefined> {
    const queued = this.take(predicate);
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve) => {
      if (signal.aborted) return;
      const matcher = { predicate, deliver: resolve };
      this.matchers.push(matcher);
      signal.addEventListener(
        'abort',
        () => {
          this.matchers = this.matchers.filter((candidate) => candidate !== matcher);
        },
        { once: true },
      );
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private shift(index: number): T {
    const [item] = this.items.splice(index, 1) as [T];
    this.onSizeChange?.(this.items.length);
    return item;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
