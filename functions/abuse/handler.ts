import middy from '@middy/core';
import { type AbuseRequestParsed, type AbuseResponse, abuseRequestSchema } from '../contract/abuse.js';
import { DEFAULT_LEASE_TTL_MS } from '../contract/session-events.js';
import { activeBans, recordBanEvent } from '../core/bans/index.js';
import {
  acquireConnectionSlot,
  heartbeatConnectionSlots,
  releaseConnectionSlot,
} from '../core/connection-limits/index.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { Table } from '../core/store/index.js';

export interface AbuseDeps {
  table: Table;
  now?: () => number;
  /** How long a connection slot lives without an acquire or heartbeat; default 30 s (the lease TTL). */
  slotTtlMs?: number;
}

/** Bans and connection-limit counts shared by every edge worker; see contract/abuse.ts. */
export function createAbuseHandler(deps: AbuseDeps) {
  const now = deps.now ?? Date.now;
  const ttlMs = deps.slotTtlMs ?? DEFAULT_LEASE_TTL_MS;
  return middy<AbuseRequestParsed, AbuseResponse>()
    .use(validateEvent(abuseRequestSchema))
    .handler(async (event): Promise<AbuseResponse> => {
      const nowMs = now();
      switch (event.op) {
        case 'list-bans':
          return { bans: await activeBans(deps.table, nowMs) };
        case 'ban-event': {
          const { op: _op, ...occurrence } = event;
          return recordBanEvent(deps.table, occurrence, nowMs);
        }
        case 'acquire':
          return acquireConnectionSlot(deps.table, event, nowMs, ttlMs);
        case 'release':
          return { done: await releaseConnectionSlot(deps.table, event, nowMs) };
        case 'heartbeat':
          await heartbeatConnectionSlots(deps.table, event.workerId, event.slots, nowMs, ttlMs);
          return { done: true };
      }
    });
}

/** The Lambda entry point (Powertools logging and metrics). Built on first use so importing this module has no side effects. */
export const handler = lambdaEntry('abuse', () => createAbuseHandler({ table: tableFromEnv() }));
