import middy from '@middy/core';
import type { z } from 'zod';
import { type HealthCheckResponse, healthCheckRequestSchema } from '../contract/health-check.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverySettingsFromEnv,
} from '../core/discovery/index.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { ActiveCheckOptions, HealthSettings } from '../core/health/index.js';
import { activeCheckOptionsFromEnv, checkPools, healthSettingsFromEnv } from '../core/health/index.js';
import { type FunctionTelemetry, noMetrics } from '../core/telemetry/index.js';

type Event = z.output<typeof healthCheckRequestSchema>;

export interface HealthCheckDeps {
  /** The store, and the resolver for `+srv` / `+txt` backends. */
  discovery: DiscoveryContext;
  options: ActiveCheckOptions;
  health: HealthSettings;
  /** Where HealthChecks and UnhealthyBackends go (Lambda: CloudWatch EMF); default nowhere. */
  telemetry?: FunctionTelemetry;
}

/**
 * The health-check function: checks backends per protocol (FTP banner, FTPS AUTH TLS and
 * certificate, SFTP key exchange) and stores result, latency and reason per pool and backend. A
 * pass makes a backend healthy again; a failure marks it unhealthy (resolve-backend skips it).
 * Registered and discovered backends pass the destination address policy first; a refused one is
 * not connected to and comes back under `refused` with the reason.
 */
export function createHealthCheckHandler(deps: HealthCheckDeps) {
  const metrics = deps.telemetry?.metrics ?? noMetrics;
  return middy<Event, HealthCheckResponse>()
    .use(validateEvent(healthCheckRequestSchema))
    .handler(async (event) => {
      const { checked, refused } = await checkPools(
        deps.discovery,
        { ...(event.pools ? { pools: event.pools } : {}), ...(event.listed ? { listed: event.listed } : {}) },
        deps.options,
        deps.health,
      );
      const failed = checked.filter((check) => !check.ok).length;
      metrics.add('HealthChecks', 'Count', checked.length - failed, { result: 'ok' });
      metrics.add('HealthChecks', 'Count', failed, { result: 'failed' });
      // The dashboard's alarm reads the maximum per minute: backends down after this run.
      metrics.add('UnhealthyBackends', 'Count', failed);
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

/** The Lambda entry point (FTPX_TABLE_NAME, FTPX_DNS_*, FTPX_HEALTH_*, FTPX_HEALTH_CHECK_*; Powertools logging and metrics). */
export const handler = lambdaEntry('health-check', (telemetry) =>
  createHealthCheckHandler({
    discovery: createDiscoveryContext(tableFromEnv(), discoverySettingsFromEnv()),
    options: activeCheckOptionsFromEnv(),
    health: healthSettingsFromEnv(),
    telemetry,
  }),
);
