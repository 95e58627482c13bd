import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Memory given back after many sessions end (issue 19, "the memory returned after they end").
 *
 * V8 keeps the heap that sessions grew (their objects, the login garbage) until its memory reducer
 * decides the process is idle: a minute or more after the sessions quit, per process, on its own
 * schedule (bench/README.md, "Memory settings of `serve --workers N`": 482 MiB 10 s after 10,000
 * sessions quit, 401 MiB 90 s after, one worker given back and the other not). A process that just
 * lost most of its sessions knows better: once its live sessions have fallen by a large part from
 * their recent peak and stayed down for a few seconds, it runs full collections itself. Nothing here
 * runs per chunk or per command: one timer per drop, at most one collection per interval.
 */

export interface MemoryReturnSettings {
  /** A drop smaller than this many sessions is not worth a full collection (its memory is small). */
  minDrop: number;
  /** The live sessions must be at most this part of their peak (0.5: half of them gone). */
  remainingFraction: number;
  /** How long the sessions must stay down: a burst of quits ends, and sessions that come back cancel it. */
  settleMs: number;
  /** At most one collection this often: a full collection pauses the sessions still open. */
  minIntervalMs: number;
}

/**
 * ~15–40 KiB a session (bench/README.md, "Idle sessions"): 256 sessions are 4–10 MiB, below which a
 * collection's pause buys little. 5 s lets a mass quit (a client pool closing, a drain) finish; 60 s
 * is about when V8's own memory reducer would act on an idle process anyway.
 */
export const MEMORY_RETURN_DEFAULTS: MemoryReturnSettings = {
  minDrop: 256,
  remainingFraction: 0.5,
  settleMs: 5_000,
  minIntervalMs: 60_000,
};

/**
 * What a collection reports: the sessions before and after the drop, what it took, and V8's heap in
 * use and committed before and after it (RSS follows the committed heap once V8 unmaps the pages).
 */
export interface MemoryReturned {
  peak: number;
  sessions: number;
  ms: number;
  heapUsedMiB: [number, number];
  heapTotalMiB: [number, number];
}

const mib = (bytes: number) => Math.round(bytes / 1048576);

/**
 * Watches the live session count of one process and calls `collect` once a large drop has settled.
 * Fed on every session end (the count after it); the peak is the most sessions seen since the last
 * collection (the session that just ended was live a moment ago, so the count before an end is
 * count + 1, and no hook on session start is needed).
 */
export class SessionDropTrigger {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastCollectAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly current: () => number,
    private readonly collect: (drop: { peak: number; sessions: number }) => void,
    private readonly settings: MemoryReturnSettings = MEMORY_RETURN_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A session ended; `sessions` are the ones still open. */
  sessionEnded(sessions: number): void {
    this.peak = Math.max(this.peak, sessions + 1);
    if (!this.dropped(sessions)) return;
    // Debounced: each further end within settleMs moves the check on.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settled(), this.settings.settleMs);
    // A process with nothing else to do may exit (a drain): the collection is not worth waiting for.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dropped(sessions: number): boolean {
    const { minDrop, remainingFraction } = this.settings;
    return this.peak - sessions >= minDrop && sessions <= this.peak * remainingFraction;
  }

  private settled(): void {
    this.timer = undefined;
    const sessions = this.current();
    // Sessions came back since: the memory is in use again. The peak stays for a later drop.
    if (!this.dropped(sessions)) return;
    const wait = this.lastCollectAt + this.settings.minIntervalMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => this.settled(), wait);
      this.timer.unref();
      return;
    }
    this.lastCollectAt = this.now();
    const peak = this.peak;
    this.peak = sessions;
    this.collect({ peak, sessions });
  }
}

type Collect = () => unknown;

/**
 * V8's full collection. Node has no API for it without `--expose-gc`: when the operator gave that
 * flag, `globalThis.gc` is used; otherwise the flag is set at run time and a new context gets V8's
 * `gc` function (the `expose-gc` package's way; V8 installs its extensions when a context is made),
 * which collects the whole isolate, without exposing `gc` to the proxy's own code.
 */
function fullCollection(): Collect {
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

/**
 * Gives a process's heap back: two full collections back to back. Measured on Node 20 (a 237 MiB
 * heap of dropped, fragmented objects): after one, RSS stayed at 233–237 MiB; after two, 84 MiB a
 * second later: the first finds the garbage and sweeps, the second finds the swept pages empty and
 * V8 releases them (as its memory reducer and its last-resort collection run more than one). Returns
 * the milliseconds they took (the pause every open session saw).
 */
export function returnMemory(collect: Collect = fullCollection()): number {
  const started = performance.now();
  // Without options: on Node 20, gc({ type: 'major', execution: 'sync' }) twice left the same heap
  // in use (158 MiB) where gc() twice freed it (RSS 237 → 84 MiB).
  collect();
  collect();
  return performance.now() - started;
}

/**
 * Starts watching `sessions` (a SessionRegistry: `size` and `onEnd`): after a large drop, collects
 * and calls `returned` (a log line). Returns stop().
 */
export function watchSessionDrops(
  sessions: { readonly size: number; onEnd(listener: () => void): void },
  returned: (result: MemoryReturned) => void,
  settings: MemoryReturnSettings = MEMORY_RETURN_DEFAULTS,
  collect?: Collect,
): () => void {
  let gc = collect;
  const trigger = new SessionDropTrigger(
    () => sessions.size,
    (drop) => {
      gc ??= fullCollection();
      const before = process.memoryUsage();
      const ms = Math.round(returnMemory(gc));
      const after = process.memoryUsage();
      returned({
        ...drop,
        ms,
        heapUsedMiB: [mib(before.heapUsed), mib(after.heapUsed)],
        heapTotalMiB: [mib(before.heapTotal), mib(after.heapTotal)],
      });
    },
    settings,
  );
  sessions.onEnd(() => trigger.sessionEnded(sessions.size));
  return () => trigger.stop();
}
