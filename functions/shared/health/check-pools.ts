import type { DiscoveryContext } from '../discovery/discovery-service.js';
import type { ActiveCheckOptions } from './check-backend.js';
import { gatherCheckTargets, type ListedBackends } from './check-targets.js';
import type { HealthSettings } from './health-settings.js';
import { type CheckOutcome, runHealthChecks } from './run-checks.js';

/** One health-check run: gather the targets (check-targets.ts), check them, store the results. */
export async function checkPools(
  discovery: DiscoveryContext,
  request: { pools?: readonly string[]; listed?: readonly ListedBackends[] },
  options: ActiveCheckOptions,
  settings: HealthSettings,
): Promise<CheckOutcome[]> {
  const targets = await gatherCheckTargets(discovery.table, discovery, {
    ...request,
    nowMs: discovery.now(),
  });
  return runHealthChecks(discovery.table, targets, options, settings);
}
