import middy from '@middy/core';
import type { z } from 'zod';
import { type SessionEventsResponse, sessionEventsRequestSchema } from '../contract/session-events.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { HealthSettings } from '../core/health/index.js';
import { healthSettingsFromEnv } from '../core/health/index.js';
import type { Random } from '../core/random.js';
import { handleSessionEvent } from '../core/session-events.js';
import type { Table } from '../core/store/index.js';

type Event = z.output<typeof sessionEventsRequestSchema>;

export interface SessionEventsDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
  /** How long a lease lives without a connect or heartbeat; defaults to DEFAULT_LEASE_TTL_MS (30 s). */
  leaseTtlMs?: number;
  /** For retry jitter; defaults to Math.random. */
  random?: Random;
  /** Passive health thresholds; default DEFAULT_HEALTH_SETTINGS. */
  health?: HealthSettings;
}

/** Builds the handler around its dependencies, like createResolveBackendHandler. */
export function createSessionEventsHandler(deps: SessionEventsDeps) {
  const { table, ...options } = deps;
  return middy<Event, SessionEventsResponse>()
    .use(validateEvent(sessionEventsRequestSchema))
    .handler(async (event) => handleSessionEvent(table, event, options));
}

/** The Lambda entry point (Powertools logging and metrics). Built on first use so importing this module has no side effects. */
export const handler = lambdaEntry('session-events', () =>
  createSessionEventsHandler({ table: tableFromEnv(), health: healthSettingsFromEnv() }),
);
