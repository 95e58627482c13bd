/** The public surface of functions/core/discovery/: import from here, not from its files (docs/layers.md). */

export { createDiscoveryContext, type DiscoveryContext, refreshDiscoveries } from './discovery-service.js';
export type { DiscoverySettings } from './discovery-settings.js';
export { DnsClient, type DnsServer, parseDnsServer } from './dns-client.js';
export { expandDiscovered, isDiscoveryKey } from './expand.js';
export { discoverySettingsFromEnv } from './settings-from-env.js';
export { restrictToActivePriority, weightedOrder } from './srv-order.js';
