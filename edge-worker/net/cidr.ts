import { BlockList, isIP } from 'node:net';

/** A set of networks to test addresses against ("10.0.0.0/8", "::1", "fd00::/8"). */
export class NetworkSet {
  private readonly list = new BlockList();
  private empty = true;

  /** Adds a network; returns an error message when the text is not an address or CIDR network. */
  add(text: string): string | undefined {
    const [address = '', bits, extra] = text.trim().split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && !/^\d{1,3}$/.test(bits)) ||
      prefix > max
    ) {
      return `"${text}" is not an address or CIDR network`;
    }
    this.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    this.empty = false;
    return undefined;
  }

  /** IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 networks. */
  has(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Builds a NetworkSet, or lists every entry that is not a network. */
export function parseNetworks(
  texts: string[],
): { ok: true; networks: NetworkSet } | { ok: false; errors: string[] } {
  const networks = new NetworkSet();
  const errors = texts
    .map((text) => networks.add(text))
    .filter((error): error is string => error !== undefined);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, networks };
}
