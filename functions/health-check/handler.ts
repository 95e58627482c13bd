import middy from '@middy/core';
import type { z } from 'zod';
import { type HealthCheckResponse, healthCheckRequestSchema } from '../contract/health-check.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverySettingsFromEnv,
} from '../core/discovery/index.js';
import { tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { ActiveCheckOptions, HealthSettings } from '../core/health/index.js';
import { activeCheckOptionsFromEnv, checkPools, healthSettingsFromEnv } from '../core/health/index.js';

type Event = z.output<typeof healthCheckRequestSchema>;

export interface HealthCheckDeps {
  /** The store, and the resolver for `+srv` / `+txt` backends. */
  discovery: DiscoveryContext;
  options: ActiveCheckOptions;
  health: HealthSettings;
}

/**
 * The health-check function: checks backends per protocol (FTP banner, FTPS AUTH TLS and
 * certificate, SFTP key exchange) and stores result, latency and reason per pool and backend. A
 * pass makes a backend healthy again; a failure marks it unhealthy (resolve-backend skips it).
 * Registered and discovered backends pass the destination address policy first; a refused one is
 * not connected to and comes back under `refused` with the reason.
 */
export function createHealthCheckHandler(deps: HealthCheckDeps) {
  return middy<Event, HealthCheckResponse>()
    .use(validateEvent(healthCheckRequestSchema))
    .handler(async (event) => {
      const { checked, refused } = await checkPools(
        deps.discovery,
        { ...(event.pools ? { pools: event.pools } : {}), ...(event.listed ? { listed: event.listed } : {}) },
        deps.options,
        deps.health,
      );
      return {
        checked: checked.map(({ pool, backend, ok, protocol, latencyMs, reason, warning, certNotAfter }) => ({
          pool,
          backend,
          ok,
          protocol,
          latencyMs,
          reason,
          ...(warning !== undefined ? { warning } : {}),
          ...(certNotAfter !== undefined ? { certNotAfter } : {}),
        })),
        ...(refused.length > 0 ? { refused } : {}),
      };
    });
}

let lambdaHandler: ReturnType<typeof createHealthCheckHandler> | undefined;

/** The Lambda entry point (FTPX_TABLE_NAME, FTPX_DNS_*, FTPX_HEALTH_*, FTPX_HEALTH_CHECK_*). */
export const handler = (
  event: unknown,
  context: Parameters<ReturnType<typeof createHealthCheckHandler>>[1],
) => {
  lambdaHandler ??= createHealthCheckHandler({
    discovery: createDiscoveryContext(tableFromEnv(), discoverySettingsFromEnv()),
    options: activeCheckOptionsFromEnv(),
    health: healthSettingsFromEnv(),
  });
  return lambdaHandler(event as Event, context);
};
