import { inNetworks, parseCidrList } from '../../functions/core/net/index.js';

/**
 * AllowForeignAddress as a predicate: may a client's PORT/EPRT name this host, which is not its own?
 * `false` (the default) never, `true` always, a list of networks only inside them.
 */
export function foreignAddressPolicy(setting: boolean | string[]): (host: string) => boolean {
  if (typeof setting === 'boolean') return () => setting;
  const parsed = parseCidrList(setting);
  // The config schema validated the list; this guards against a caller that skipped it.
  if (!parsed.ok) throw new Error(parsed.error);
  return (host) => inNetworks(host, parsed.cidrs);
}
