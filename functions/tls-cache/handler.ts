import middy from '@middy/core';
import type { z } from 'zod';
import {
  type TlsCacheResponse,
  tlsCacheRequestSchema,
  tlsCacheScheduledRequestSchema,
} from '../contract/tls-cache.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { Table } from '../core/store/index.js';
import {
  type FunctionLog,
  type FunctionMetrics,
  type FunctionTelemetry,
  noMetrics,
  silentLog,
} from '../core/telemetry/index.js';
import { handleTlsCache } from '../core/tls-cache/index.js';

type Event = z.output<typeof tlsCacheRequestSchema>;
type ScheduledEvent = z.output<typeof tlsCacheScheduledRequestSchema>;

export interface TlsCacheDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
  /** Where the cache's hit/miss metrics and the schedules' warnings go; default nowhere. */
  telemetry?: FunctionTelemetry;
}

/** The shared frontend TLS caches (sessions, ticket keys, OCSP responses): see contract/tls-cache.ts. */
export function createTlsCacheHandler(deps: TlsCacheDeps) {
  const { table, telemetry, ...options } = deps;
  const metrics = telemetry?.metrics ?? noMetrics;
  return middy<Event, TlsCacheResponse>()
    .use(validateEvent(tlsCacheRequestSchema))
    .handler(async (event) => {
      const response = await handleTlsCache(table, event, options);
      countLookup(metrics, response);
      return response;
    });
}

/**
 * What the EventBridge schedules invoke (infra/lib/functions.ts): `ticket-keys`, so the next
 * period's key exists before any worker needs it, and `ocsp-refresh`. Failed refreshes are logged
 * (one JSON line, no certificate or response data), the answer is the contract's.
 */
export function createTlsCacheScheduledHandler(deps: TlsCacheDeps) {
  const { table, telemetry, ...options } = deps;
  const log: FunctionLog = telemetry?.log ?? silentLog;
  return middy<ScheduledEvent, TlsCacheResponse>()
    .use(validateEvent(tlsCacheScheduledRequestSchema))
    .handler(async (event) => {
      const result = await handleTlsCache(table, event, options);
      if (result.op === 'ocsp-refresh' && result.failed > 0) {
        const { op, ...counts } = result;
        log.warn('OCSP responses not refreshed', { op, ...counts });
      }
      return result;
    });
}

/**
 * Shared-cache lookups as the dashboard graphs them: TLS sessions (frontend and backend) as
 * TlsSessionCacheHits / TlsSessionCacheMisses, OCSP responses as OcspCacheHits / OcspCacheMisses
 * (an expired entry is a miss).
 */
function countLookup(metrics: FunctionMetrics, response: TlsCacheResponse): void {
  const kind =
    response.op === 'session-get' || response.op === 'backend-session-get'
      ? 'TlsSessionCache'
      : response.op === 'ocsp-get'
        ? 'OcspCache'
        : undefined;
  if (kind === undefined || !('result' in response)) return;
  metrics.add(response.result === 'hit' ? `${kind}Hits` : `${kind}Misses`, 'Count', 1);
}

/** The Lambda entry point for edge requests (FTPX_TABLE_NAME, optional FTPX_STORE_ENDPOINT). Built on first use. */
export const handler = lambdaEntry('tls-cache', (telemetry) =>
  createTlsCacheHandler({ table: tableFromEnv(), telemetry }),
);

/** The Lambda entry point for the schedules' events. Built on first use. */
export const scheduled = lambdaEntry('tls-cache', (telemetry) =>
  createTlsCacheScheduledHandler({ table: tableFromEnv(), telemetry }),
);
