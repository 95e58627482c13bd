import type { Ban, BanKind } from '../../contract/abuse.js';
import type { Table } from '../store/index.js';
import { countBanEvent } from '../store/index.js';
import { addBan } from './ban-list.js';

/** One BanOnEvent occurrence, with its rule. */
export interface BanEventOccurrence {
  event: string;
  kind: BanKind;
  value: string;
  count: number;
  windowMs: number;
  durationMs: number;
  message?: string;
}

/**
 * mod_ban's autoban: counts the occurrence across the cluster and, once `count` occurrences fall
 * within the window, bans the host, user or class for the rule's duration. Every worker's count
 * goes to the same item, so a sprayer spread over many workers is banned as soon as one would be.
 */
export async function recordBanEvent(
  table: Table,
  occurrence: BanEventOccurrence,
  nowMs: number,
): Promise<{ count: number; ban?: Ban }> {
  const count = await countBanEvent(table, occurrence, nowMs, occurrence.windowMs);
  if (count < occurrence.count) return { count };
  const ban = await addBan(
    table,
    {
      kind: occurrence.kind,
      value: occurrence.value,
      reason: `${occurrence.event} autoban at ${new Date(nowMs).toISOString()}`,
      durationMs: occurrence.durationMs,
      ...(occurrence.message !== undefined ? { message: occurrence.message } : {}),
    },
    nowMs,
  );
  return { count, ban };
}
