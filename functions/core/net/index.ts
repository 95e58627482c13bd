/** The public surface of functions/core/net/: import from here, not from its files (docs/layers.md). */

export { addressResolver, numericHost, type ResolveAddresses } from './address-resolver.js';
export { type Cidr, inNetworks, parseCidr, parseCidrList } from './cidr.js';
export { DestinationPolicy, parseAllowNetworks } from './destination-policy.js';
export {
  formatIPv4,
  formatIPv6,
  mapIPv4,
  normalizeAddressBytes,
  type ParsedAddress,
  parseAddress,
  parseIPv4,
  parseIPv6,
} from './ip.js';
