import middy from '@middy/core';
import type { z } from 'zod';
import { type ResolveBackendResponse, resolveBackendRequestSchema } from '../contract/resolve-backend.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverySettingsFromEnv,
} from '../core/discovery/index.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { HealthSettings } from '../core/health/index.js';
import { healthSettingsFromEnv } from '../core/health/index.js';
import type { Random } from '../core/random.js';
import { resolveBackend } from '../core/resolve-backend.js';
import type { Table } from '../core/store/index.js';
import { type FunctionTelemetry, noMetrics } from '../core/telemetry/index.js';

type Event = z.output<typeof resolveBackendRequestSchema>;

export interface ResolveBackendDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
  /** Uniform in [0, 1); defaults to Math.random (tests pass a seeded generator). */
  random?: Random;
  /** How long an unused sticky mapping lives; defaults to 30 days. */
  stickyTtlMs?: number;
  /** Resolver, settings and shared cache for `+srv` / `+txt` backends; default: the system's resolvers. */
  discovery?: DiscoveryContext;
  /** How health is used (skip unhealthy backends, whenAllUnhealthy); default DEFAULT_HEALTH_SETTINGS. */
  health?: HealthSettings;
  /** Where ResolveLatency and PolicyDecisions go (Lambda: CloudWatch EMF); default nowhere. */
  telemetry?: FunctionTelemetry;
}

/** Builds the handler around its dependencies: Lambda takes them from the environment, embedded mode passes its own. */
export function createResolveBackendHandler(deps: ResolveBackendDeps) {
  const { table, telemetry, ...options } = deps;
  const metrics = telemetry?.metrics ?? noMetrics;
  return middy<Event, ResolveBackendResponse>()
    .use(validateEvent(resolveBackendRequestSchema))
    .handler(async (event) => {
      const started = performance.now();
      const response = await resolveBackend(table, event, options);
      metrics.add('ResolveLatency', 'Milliseconds', performance.now() - started);
      metrics.add('PolicyDecisions', 'Count', 1, {
        policy: event.policy,
        result: response.candidates.length > 0 ? 'candidates' : 'none',
      });
      return response;
    });
}

/** The Lambda entry point (Powertools logging and metrics). Built on first use so importing this module has no side effects. */
export const handler = lambdaEntry('resolve-backend', (telemetry) => {
  const table = tableFromEnv();
  return createResolveBackendHandler({
    table,
    discovery: createDiscoveryContext(table, discoverySettingsFromEnv()),
    health: healthSettingsFromEnv(),
    telemetry,
  });
});
