import type { DiscoveryContext } from '../discovery/index.js';
import { addressResolver, type Cidr, parseCidrList, type ResolveAddresses } from '../net/index.js';
import type { ActiveCheckOptions } from './check-backend.js';
import { gatherCheckTargets, type ListedBackends } from './check-targets.js';
import type { HealthSettings } from './health-settings.js';
import { type CheckOutcome, runHealthChecks } from './run-checks.js';
import { type RefusedTarget, screenTargets } from './target-destinations.js';

export interface PoolChecks {
  checked: CheckOutcome[];
  /** Registered or discovered targets the destination address policy kept the checks from. */
  refused: RefusedTarget[];
}

/**
 * One health-check run: gather the targets (check-targets.ts), keep the ones the destination address
 * policy refuses from being connected to (target-destinations.ts), check the rest, store the results.
 * A pool's allow list is the one its `listed` entry carries, else `options.allowDestinationNetworks`.
 */
export async function checkPools(
  discovery: DiscoveryContext,
  request: { pools?: readonly string[]; listed?: readonly ListedBackends[] },
  options: ActiveCheckOptions,
  settings: HealthSettings,
  /** Defaults to the discovery settings' resolvers (else the system's), as the edge's `dns` block. */
  resolve: ResolveAddresses = addressResolver(discovery.settings.servers, discovery.settings.timeoutMs),
): Promise<PoolChecks> {
  const targets = await gatherCheckTargets(discovery.table, discovery, {
    ...request,
    nowMs: discovery.now(),
  });
  const fallback = allowList(options.allowDestinationNetworks ?? [], 'allowDestinationNetworks');
  const perPool = new Map<string, Cidr[]>();
  for (const entry of request.listed ?? []) {
    if (entry.allowDestinationNetworks !== undefined) {
      perPool.set(
        entry.pool,
        allowList(entry.allowDestinationNetworks, `pool ${entry.pool}: allowDestinationNetworks`),
      );
    }
  }
  const { allowed, refused } = await screenTargets(targets, {
    resolve,
    allowNetworks: (pool) => perPool.get(pool) ?? fallback,
  });
  const checked = await runHealthChecks(discovery.table, allowed, options, settings);
  return { checked, refused };
}

function allowList(texts: readonly string[], what: string): Cidr[] {
  const parsed = parseCidrList(texts);
  if (!parsed.ok) throw new Error(`${what}: ${parsed.error}`);
  return parsed.cidrs;
}
