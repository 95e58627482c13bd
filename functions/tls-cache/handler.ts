import middy from '@middy/core';
import type { z } from 'zod';
import {
  type TlsCacheResponse,
  tlsCacheRequestSchema,
  tlsCacheScheduledRequestSchema,
} from '../contract/tls-cache.js';
import { tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { Table } from '../core/store/index.js';
import { handleTlsCache } from '../core/tls-cache/index.js';

type Event = z.output<typeof tlsCacheRequestSchema>;
type ScheduledEvent = z.output<typeof tlsCacheScheduledRequestSchema>;

export interface TlsCacheDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
}

/** The shared frontend TLS caches (sessions, ticket keys, OCSP responses): see contract/tls-cache.ts. */
export function createTlsCacheHandler(deps: TlsCacheDeps) {
  const { table, ...options } = deps;
  return middy<Event, TlsCacheResponse>()
    .use(validateEvent(tlsCacheRequestSchema))
    .handler(async (event) => handleTlsCache(table, event, options));
}

/**
 * What the EventBridge schedules invoke (infra/lib/functions.ts): `ticket-keys`, so the next
 * period's key exists before any worker needs it, and `ocsp-refresh`. Failed refreshes are logged
 * (one JSON line, no certificate or response data), the answer is the contract's.
 */
export function createTlsCacheScheduledHandler(
  deps: TlsCacheDeps & { log?: (line: Record<string, unknown>) => void },
) {
  const { table, log = logToStderr, ...options } = deps;
  return middy<ScheduledEvent, TlsCacheResponse>()
    .use(validateEvent(tlsCacheScheduledRequestSchema))
    .handler(async (event) => {
      const result = await handleTlsCache(table, event, options);
      if (result.op === 'ocsp-refresh' && result.failed > 0) {
        log({ level: 'warn', msg: 'OCSP responses not refreshed', ...result });
      }
      return result;
    });
}

function logToStderr(line: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

let lambdaHandler: ReturnType<typeof createTlsCacheHandler> | undefined;

/** The Lambda entry point for edge requests (FTPX_TABLE_NAME, optional FTPX_STORE_ENDPOINT). Built on first use. */
export const handler = (event: unknown, context: Parameters<ReturnType<typeof createTlsCacheHandler>>[1]) => {
  lambdaHandler ??= createTlsCacheHandler({ table: tableFromEnv() });
  return lambdaHandler(event as Event, context);
};

let scheduledHandler: ReturnType<typeof createTlsCacheScheduledHandler> | undefined;

/** The Lambda entry point for the schedules' events. Built on first use. */
export const scheduled = (
  event: unknown,
  context: Parameters<ReturnType<typeof createTlsCacheScheduledHandler>>[1],
) => {
  scheduledHandler ??= createTlsCacheScheduledHandler({ table: tableFromEnv() });
  return scheduledHandler(event as ScheduledEvent, context);
};
