import middy from '@middy/core';
import type { z } from 'zod';
import { type ResolveBackendResponse, resolveBackendRequestSchema } from '../contract/resolve-backend.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverySettingsFromEnv,
} from '../core/discovery/index.js';
import { tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { HealthSettings } from '../core/health/index.js';
import { healthSettingsFromEnv } from '../core/health/index.js';
import type { Random } from '../core/random.js';
import { resolveBackend } from '../core/resolve-backend.js';
import type { Table } from '../core/store/index.js';

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
}

/** Builds the handler around its dependencies: Lambda takes them from the environment, embedded mode passes its own. */
export function createResolveBackendHandler(deps: ResolveBackendDeps) {
  const { table, ...options } = deps;
  return middy<Event, ResolveBackendResponse>()
    .use(validateEvent(resolveBackendRequestSchema))
    .handler(async (event) => resolveBackend(table, event, options));
}

let lambdaHandler: ReturnType<typeof createResolveBackendHandler> | undefined;

/** The Lambda entry point. Built on first use so importing this module has no side effects. */
export const handler = (
  event: unknown,
  context: Parameters<ReturnType<typeof createResolveBackendHandler>>[1],
) => {
  if (!lambdaHandler) {
    const table = tableFromEnv();
    lambdaHandler = createResolveBackendHandler({
      table,
      discovery: createDiscoveryContext(table, discoverySettingsFromEnv()),
      health: healthSettingsFromEnv(),
    });
  }
  return lambdaHandler(event as Event, context);
};
