import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type MemoryReturnSettings,
  returnMemory,
  SessionDropTrigger,
  watchSessionDrops,
} from '../../../../edge-worker/cluster/memory-return.js';

const settings: MemoryReturnSettings = {
  minDrop: 100,
  remainingFraction: 0.5,
  settleMs: 5_000,
  minIntervalMs: 60_000,
};

/** A session count the trigger reads, and the ends it is told of, one by one as a registry does. */
function sessions(trigger: () => SessionDropTrigger) {
  let open = 0;
  return {
    count: () => open,
    open(n: number) {
      open += n;
    },
    end(n: number) {
      for (let i = 0; i < n; i++) {
        open -= 1;
        trigger().sessionEnded(open);
      }
    },
  };
}

describe('SessionDropTrigger: when a process gives its memory back', () => {
  let collected: { peak: number; sessions: number }[];
  let trigger: SessionDropTrigger;
  let live: ReturnType<typeof sessions>;

  beforeEach(() => {
    vi.useFakeTimers();
    collected = [];
    live = sessions(() => trigger);
    trigger = new SessionDropTrigger(
      live.count,
      (drop) => collected.push(drop),
      settings,
      () => Date.now(),
    );
  });

  afterEach(() => {
    trigger.stop();
    vi.useRealTimers();
  });

  it('collects once the sessions fell by half of their peak and stayed down for settleMs', () => {
    live.open(300);
    live.end(200);
    vi.advanceTimersByTime(settings.settleMs - 1);
    expect(collected).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(collected).toEqual([{ peak: 300, sessions: 100 }]);
  });

  it('waits for a burst of quits to end: each further end moves the check on', () => {
    live.open(1000);
    live.end(600);
    vi.advanceTimersByTime(4_000);
    live.end(400);
    vi.advanceTimersByTime(4_000);
    expect(collected).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(collected).toEqual([{ peak: 1000, sessions: 0 }]);
  });

  it('does not collect for small drops, or drops that leave most sessions open', () => {
    live.open(150);
    live.end(99); // fewer than minDrop gone
    live.open(850); // 901 open
    live.end(300); // 601 of 901 still open: more than half
    vi.advanceTimersByTime(settings.settleMs * 3);
    expect(collected).toEqual([]);
  });

  it('does not collect when the sessions came back before the drop settled', () => {
    live.open(400);
    live.end(300);
    live.open(250);
    vi.advanceTimersByTime(settings.settleMs);
    expect(collected).toEqual([]);
  });

  it('collects at most once per minIntervalMs, and a later drop is measured from the sessions after the last', () => {
    live.open(1000);
    live.end(1000);
    vi.advanceTimersByTime(settings.settleMs);
    expect(collected).toHaveLength(1);
    live.open(500);
    live.end(500);
    vi.advanceTimersByTime(settings.settleMs);
    expect(collected).toHaveLength(1);
    // Held back until the interval from the first collection has passed, then done.
    vi.advanceTimersByTime(settings.minIntervalMs - settings.settleMs - 1);
    expect(collected).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(collected).toEqual([
      { peak: 1000, sessions: 0 },
      { peak: 500, sessions: 0 },
    ]);
  });
});

describe('returnMemory', () => {
  it('runs two full collections, synchronously (the second releases the pages the first swept)', () => {
    const collect = vi.fn();
    returnMemory(collect);
    // gc() without options: the options form collected nothing on Node 20 (memory-return.ts).
    expect(collect.mock.calls).toEqual([[], []]);
  });
});

describe("returnMemory with V8's own collection", () => {
  it('frees objects dropped after they reached the old generation, as start-up leaves them', async () => {
    // Garbage that lives long enough to reach the old generation, as module loading's does.
    let kept: number[][] | undefined = Array.from({ length: 200_000 }, (_, i) => [i, i + 1, i + 2]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const garbage = kept.length;
    kept = undefined;
    const before = process.memoryUsage().heapUsed;
    returnMemory();
    const freed = before - process.memoryUsage().heapUsed;
    // 200,000 arrays of three small integers: ~10 MiB of objects.
    expect(garbage).toBe(200_000);
    expect(freed).toBeGreaterThan(5 * 1024 * 1024);
  });
});

describe('watchSessionDrops', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows a registry: its size and its session ends', () => {
    vi.useFakeTimers();
    const listeners: (() => void)[] = [];
    let size = 300;
    const registry = {
      get size() {
        return size;
      },
      onEnd: (listener: () => void) => listeners.push(listener),
    };
    const collect = vi.fn();
    const returned = vi.fn();
    const stop = watchSessionDrops(registry, returned, settings, collect);
    while (size > 0) {
      size -= 1;
      for (const listener of listeners) listener();
    }
    vi.advanceTimersByTime(settings.settleMs);
    expect(collect).toHaveBeenCalledTimes(2);
    expect(returned).toHaveBeenCalledWith(expect.objectContaining({ peak: 300, sessions: 0 }));
    stop();
  });
});
