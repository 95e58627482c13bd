import middy from '@middy/core';
import type { z } from 'zod';
import { type DiscoveryResponse, discoveryRequestSchema } from '../contract/discovery.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverySettingsFromEnv,
  refreshDiscoveries,
} from '../core/discovery/index.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';

type Event = z.output<typeof discoveryRequestSchema>;

export interface DiscoveryDeps {
  /** The store (the shared answer cache), resolver, settings and clock. */
  discovery: DiscoveryContext;
}

/**
 * The discovery function: refreshes the DNS answers for `+srv` / `+txt` backends that
 * resolve-backend cached (scheduled), or resolves named ones now (on demand). resolve-backend also
 * resolves on demand when it finds no valid answer, so this function keeps logins from waiting.
 */
export function createDiscoveryHandler(deps: DiscoveryDeps) {
  return middy<Event, DiscoveryResponse>()
    .use(validateEvent(discoveryRequestSchema))
    .handler(async (event) =>
      refreshDiscoveries(deps.discovery, {
        withinMs: event.withinMs,
        force: event.force,
        ...(event.sources ? { sources: event.sources } : {}),
      }),
    );
}

/** The Lambda entry point (FTPX_TABLE_NAME, FTPX_DNS_SERVERS and friends; Powertools logging and metrics). */
export const handler = lambdaEntry('discovery', () =>
  createDiscoveryHandler({
    discovery: createDiscoveryContext(tableFromEnv(), discoverySettingsFromEnv()),
  }),
);
