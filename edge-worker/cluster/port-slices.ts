import type { FtpxConfig } from '../config/schema.js';

/**
 * Passive data ports are exclusive to the worker process that owns the session: each listener's
 * PassivePorts range is cut into one disjoint slice per worker slot (a restarted worker takes over its
 * slot's slice). A range smaller than the number of workers is left whole: the ports are then bound
 * with `exclusive` listening, so the kernel still refuses a port another process holds, and the
 * session tries the next one (ftp/data/port-range.ts).
 */
export function sliceRange(
  min: number,
  max: number,
  slot: number,
  slots: number,
): { min: number; max: number } {
  const size = max - min + 1;
  if (slots <= 1 || size < slots) return { min, max };
  const base = Math.floor(size / slots);
  const extra = size % slots;
  const start = min + slot * base + Math.min(slot, extra);
  const length = base + (slot < extra ? 1 : 0);
  return { min: start, max: start + length - 1 };
}

export function withPortSlice(config: FtpxConfig, slot: number, slots: number): FtpxConfig {
  return {
    ...config,
    listeners: config.listeners.map((listener) =>
      listener.passivePorts
        ? {
            ...listener,
            passivePorts: sliceRange(listener.passivePorts.min, listener.passivePorts.max, slot, slots),
          }
        : listener,
    ),
  };
}
