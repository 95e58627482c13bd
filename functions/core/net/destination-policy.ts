/**
 * Which addresses the proxy may open a connection to when the destination was chosen by someone
 * other than the operator: a forward-proxy client's `USER user@host`, a backend registered through
 * the registry API, a target found by DNS discovery. The check runs on every RESOLVED address just
 * before connecting, so the spelling a client chose (`2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`,
 * a name that resolves inward) makes no difference: the address is classified, never the text.
 *
 * Classes (IANA special-purpose registries, RFC 6890):
 * - public: allowed.
 * - loopback (127.0.0.0/8, ::1) and private (RFC 1918, CGNAT 100.64.0.0/10 of RFC 6598, ULA fc00::/7
 *   of RFC 4193, site-local fec0::/10): allowed only where the deployment says so explicitly
 *   (a ProxyForwardTo pattern matching the canonical `address:port`, or the pool's
 *   `allowDestinationNetworks`).
 * - link-local (169.254.0.0/16, fe80::/10), cloud metadata (169.254.169.254, fd00:ec2::254,
 *   100.100.100.200), unspecified (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8), broadcast,
 *   reserved (240.0.0.0/4, ::/96, 100::/64) and this proxy's own listening addresses: refused unless
 *   the pool's `allowDestinationNetworks` lists them.
 *
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address it maps; NAT64 (64:ff9b::/96, RFC 6052)
 * and 6to4 (2002::/16, RFC 3056) addresses take the class of the IPv4 address they embed when that is
 * not public, since a translator on the path would deliver them there.
 */

import { type Cidr, cidrContains, parseCidr } from './cidr.js';
import { formatIPv4, normalizeAddressBytes, parseAddress } from './ip.js';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'self';

/** Classes an explicit ProxyForwardTo match (or the pool's allow list) opens. */
const INTERNAL: ReadonlySet<AddressClass> = new Set(['loopback', 'private']);

/** Most specific first: the first network that contains an address decides its class. */
const SPECIAL_NETWORK_TEXTS: ReadonlyArray<readonly [string, AddressClass]> = [
  ['169.254.169.254/32', 'metadata'],
  ['100.100.100.200/32', 'metadata'],
  ['fd00:ec2::254/128', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'private'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved'],
  ['100::/64', 'reserved'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'],
  ['fc00::/7', 'private'],
  ['ff00::/8', 'multicast'],
];
const SPECIAL_NETWORKS: ReadonlyArray<readonly [Cidr, AddressClass]> = SPECIAL_NETWORK_TEXTS.map(
  ([text, kind]) => {
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return [parsed.cidr, kind] as const;
  },
);

const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');

/** The address as the policy sees it: IPv4 dotted quad (mapped ones too), IPv6 in RFC 5952 form. */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text);
  return parsed ? normalizeAddressBytes(parsed.bytes) : undefined;
}

export interface ClassifiedAddress {
  /** Canonical (see canonicalAddress). */
  address: string;
  kind: AddressClass;
  /** The special-purpose network that decided the class; absent for public addresses. */
  network?: string;
}

/** The class of an IP address; undefined when `text` is not one. */
export function classifyAddress(text: string): ClassifiedAddress | undefined {
  const address = canonicalAddress(text);
  if (address === undefined) return undefined;
  for (const [cidr, kind] of SPECIAL_NETWORKS) {
    if (cidrContains(cidr, address)) return { address, kind, network: cidr.text };
  }
  const embedded = embeddedIPv4(address);
  if (embedded !== undefined) {
    const inner = classifyAddress(embedded);
    if (inner && inner.kind !== 'public') {
      return { address, kind: inner.kind, network: `${inner.network} (embedded ${embedded})` };
    }
  }
  return { address, kind: 'public' };
}

/** The IPv4 address inside a NAT64 or 6to4 address. */
function embeddedIPv4(address: string): string | undefined {
  const parsed = parseAddress(address);
  if (parsed?.family !== 6) return undefined;
  if (NAT64.ok && cidrContains(NAT64.cidr, address)) return formatIPv4(parsed.bytes.subarray(12));
  if (SIX_TO_FOUR.ok && cidrContains(SIX_TO_FOUR.cidr, address))
    return formatIPv4(parsed.bytes.subarray(2, 6));
  return undefined;
}

export type DestinationVerdict =
  | { allowed: true; address: string; kind: AddressClass; by?: string }
  /** `reason` is for the log only: the client is told nothing more than that it cannot connect. */
  | { allowed: false; address: string; kind: AddressClass; reason: string };

export interface DestinationPolicyOptions {
  /** The pool's `allowDestinationNetworks`: addresses in these are allowed whatever their class. */
  allowNetworks: readonly Cidr[];
  /** This proxy's own listening addresses (canonical; wildcard listeners: every interface address). */
  ownAddresses: () => Promise<ReadonlySet<string>> | ReadonlySet<string>;
}

/**
 * The address policy of one pool. `explicitlyAllowed` says whether the deployment named a loopback
 * or private `address:port` on purpose (forward: a ProxyForwardTo pattern matching the canonical
 * address; reverse: never, only the allow list opens them).
 */
export class DestinationPolicy {
  constructor(private readonly options: DestinationPolicyOptions) {}

  async check(
    text: string,
    port: number,
    explicitlyAllowed: (address: string, port: number) => boolean = () => false,
  ): Promise<DestinationVerdict> {
    const classified = classifyAddress(text);
    if (!classified) {
      return { allowed: false, address: text, kind: 'reserved', reason: `"${text}" is not an IP address` };
    }
    const { address } = classified;
    const listed = this.options.allowNetworks.find((cidr) => cidrContains(cidr, address));
    if (listed)
      return { allowed: true, address, kind: classified.kind, by: `allowDestinationNetworks ${listed.text}` };
    let { kind } = classified;
    // Loopback is its own class (a proxy listening on 127.0.0.1 is "self" there too, and the loop
    // guard refuses its own ports); any other own address is the proxy host itself.
    if (kind !== 'loopback' && (await this.options.ownAddresses()).has(address)) kind = 'self';
    if (kind === 'public') return { allowed: true, address, kind };
    if (INTERNAL.has(kind)) {
      if (explicitlyAllowed(address, port)) return { allowed: true, address, kind, by: 'ProxyForwardTo' };
      return {
        allowed: false,
        address,
        kind,
        reason: `${address} is ${article(kind)} ${kind} address (${classified.network}); allowed only when ProxyForwardTo (forward.to) explicitly matches ${address}:${port} or allowDestinationNetworks lists it`,
      };
    }
    return {
      allowed: false,
      address,
      kind,
      reason: `${address} is ${kind === 'self' ? "one of this proxy's own listening addresses" : `${article(kind)} ${kind} address (${classified.network})`}; refused unless allowDestinationNetworks lists it`,
    };
  }
}

function article(kind: AddressClass): string {
  return /^[aeiou]/.test(kind) ? 'an' : 'a';
}

/** Parses the pool's `allowDestinationNetworks` (validated by the config schema already). */
export function parseAllowNetworks(texts: readonly string[]): Cidr[] {
  return texts.map((text) => {
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.cidr;
  });
}
