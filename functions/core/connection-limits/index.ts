import type { Table } from '../store/index.js';
import { acquireSlot, extendSlot, releaseSlot, type SlotRef, tallySlots } from '../store/index.js';

export type { SlotRef } from '../store/index.js';

/** Heartbeat extensions in flight at once. */
const HEARTBEAT_CONCURRENCY = 16;

/**
 * A connection joins a limit group: counted first, then the group tallied across every worker, so
 * two racing workers may both see the other and both refuse, but never both admit past the limit.
 */
export async function acquireConnectionSlot(
  table: Table,
  slot: SlotRef,
  nowMs: number,
  ttlMs: number,
): Promise<{ total: number; members: number }> {
  await acquireSlot(table, slot, nowMs, ttlMs);
  return tallySlots(table, slot.group, nowMs);
}

export function releaseConnectionSlot(table: Table, slot: SlotRef, nowMs: number): Promise<boolean> {
  return releaseSlot(table, slot, nowMs);
}

/** Keeps a worker's live slots from expiring. */
export async function heartbeatConnectionSlots(
  table: Table,
  workerId: string,
  slots: { group: string; member: string }[],
  nowMs: number,
  ttlMs: number,
): Promise<void> {
  for (let i = 0; i < slots.length; i += HEARTBEAT_CONCURRENCY) {
    await Promise.all(
      slots
        .slice(i, i + HEARTBEAT_CONCURRENCY)
        .map((slot) => extendSlot(table, { ...slot, workerId }, nowMs, ttlMs)),
    );
  }
}
