import type { Cidr, ResolveAddresses } from '../net/index.js';
import { DestinationPolicy } from '../net/index.js';
import type { CheckTarget } from './check-targets.js';

/** A target the checks may connect to: operator-listed ones as written, the others at `address`. */
export interface AllowedTarget extends CheckTarget {
  /** The resolved address that passed the policy; absent for operator-listed targets. */
  address?: string;
  /** The name did not resolve: the check fails with this reason, without connecting. */
  unresolved?: string;
}

/** A target the checks did not connect to, and why (addresses and classes only: no credentials). */
export interface RefusedTarget {
  pool: string;
  backend: string;
  reason: string;
}

export interface TargetDestinations {
  resolve: ResolveAddresses;
  /** The pool's allowDestinationNetworks (parsed), as far as the control plane knows it. */
  allowNetworks: (pool: string) => readonly Cidr[];
}

/**
 * The destination address policy (functions/core/net/destination-policy.ts, as the edge applies it
 * at connect time) for the active checks: a registered, discovered or health-record-only target's
 * host is resolved once here and every address judged; one refused address refuses the target (as
 * on the edge), which is then never connected to. Otherwise the check connects to the first address
 * judged, never to a second resolution of the name (a rebinding answer cannot slip in between). A
 * refused target is not checked and its health record is left as it is: the control plane may know
 * less of the pool's allow list than the edge (the Lambda knows only what it is told), and a wrong
 * "unhealthy" would take a backend the edge may use out of selection; the edge refuses it at connect
 * time anyway when its policy says so.
 *
 * The control plane's own addresses are not known as a listener's are, so no "self" class here:
 * loopback and private addresses (this host's services included) are refused unless the pool's
 * allow list names them.
 */
export async function screenTargets(
  targets: readonly CheckTarget[],
  destinations: TargetDestinations,
): Promise<{ allowed: AllowedTarget[]; refused: RefusedTarget[] }> {
  const allowed: AllowedTarget[] = [];
  const refused: RefusedTarget[] = [];
  const policies = new Map<string, DestinationPolicy>();
  const policyOf = (pool: string) => {
    let policy = policies.get(pool);
    if (!policy) {
      policy = new DestinationPolicy({
        allowNetworks: destinations.allowNetworks(pool),
        ownAddresses: () => new Set<string>(),
      });
      policies.set(pool, policy);
    }
    return policy;
  };
  for (const target of targets) {
    if (target.operator) {
      allowed.push(target);
      continue;
    }
    const verdict = await judge(target, policyOf(target.pool), destinations.resolve);
    if ('refused' in verdict)
      refused.push({ pool: target.pool, backend: target.backend, reason: verdict.refused });
    else if ('unresolved' in verdict) allowed.push({ ...target, unresolved: verdict.unresolved });
    else allowed.push({ ...target, address: verdict.address });
  }
  return { allowed, refused };
}

async function judge(
  target: CheckTarget,
  policy: DestinationPolicy,
  resolve: ResolveAddresses,
): Promise<{ address: string } | { refused: string } | { unresolved: string }> {
  let resolved: string[];
  try {
    resolved = await resolve(target.url.host);
  } catch (err) {
    // Not the policy's business: the edge could not connect either, so it is a failed check.
    return {
      unresolved: `cannot resolve ${target.url.host}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (resolved.length === 0) return { unresolved: `${target.url.host} has no addresses` };
  let first: string | undefined;
  for (const found of resolved) {
    const verdict = await policy.check(found, target.url.port);
    if (!verdict.allowed) return { refused: verdict.reason };
    first ??= verdict.address;
  }
  return { address: first as string };
}
