import { parseDnsServer } from '../../functions/core/discovery/index.js';
import { addressResolver, type ResolveAddresses } from '../../functions/core/net/index.js';

export type { ResolveAddresses } from '../../functions/core/net/index.js';

/**
 * How the edge resolves destinations it did not get from the operator (forward destinations,
 * registered and discovered backends): with the `dns.servers` of the YAML when there are any (the
 * same servers discovery asks), else the system's resolver (functions/core/net/address-resolver.ts).
 */
export function destinationResolver(dns: { servers: readonly string[]; timeout: number }): ResolveAddresses {
  const servers = dns.servers.flatMap((text) => {
    const parsed = parseDnsServer(text);
    return parsed.ok ? [parsed.server] : [];
  });
  return addressResolver(servers, dns.timeout);
}
