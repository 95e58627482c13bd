import middy from '@middy/core';
import type { z } from 'zod';
import { type TlsCacheResponse, tlsCacheRequestSchema } from '../contract/tls-cache.js';
import { tableFromEnv } from '../shared/handler/table-from-env.js';
import { validateEvent } from '../shared/handler/validate-event.js';
import type { Table } from '../shared/store/table.js';
import { handleTlsCache } from '../shared/tls-cache/handle.js';

type Event = z.output<typeof tlsCacheRequestSchema>;

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

let lambdaHandler: ReturnType<typeof createTlsCacheHandler> | undefined;

/** The Lambda entry point (FTPX_TABLE_NAME, optional FTPX_STORE_ENDPOINT). Built on first use. */
export const handler = (event: unknown, context: Parameters<ReturnType<typeof createTlsCacheHandler>>[1]) => {
  lambdaHandler ??= createTlsCacheHandler({ table: tableFromEnv() });
  return lambdaHandler(event as Event, context);
};
