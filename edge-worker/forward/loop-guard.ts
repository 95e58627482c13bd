import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { inNetworks, normalizeAddressBytes, parseAddress } from '../../functions/core/net/index.js';

/** Where this worker accepts FTP clients (its listeners, as bound). */
export interface SelfEndpoint {
  /** As configured: an address, a wildcard (0.0.0.0, ::) or a host name. */
  address: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
/** Addresses that reach this machine whatever its interfaces are. */
const ALWAYS_LOCAL = ['127.0.0.0/8', '::1/128', '0.0.0.0/32', '::/128'];

function normalize(address: string): string | undefined {
  const parsed = parseAddress(address);
  return parsed ? normalizeAddressBytes(parsed.bytes) : undefined;
}

/** Every address of this machine's interfaces, normalised (IPv4-mapped as dotted quads). */
function interfaceAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      const address = normalize(entry.address);
      if (address) found.add(address);
    }
  }
  return found;
}

/**
 * Loop protection: a forward destination that is this proxy itself (one of its listening address and
 * port pairs, names resolved) would make the proxy connect to itself again and again. mod_proxy
 * checks only the user@host and user@sni methods, and only the session's own local address; ftpx
 * checks every method against every listener, wildcard listeners standing for all local addresses.
 */
export class LoopGuard {
  constructor(private readonly endpoints: () => readonly SelfEndpoint[]) {}

  /**
   * Every address this worker listens on, canonical: the listeners' own addresses, and for a
   * wildcard listener every interface address. The destination policy refuses them on any port
   * (the proxy host's other services are not for clients to reach).
   */
  async ownAddresses(): Promise<Set<string>> {
    const own = new Set<string>();
    for (const endpoint of this.endpoints()) {
      if (WILDCARDS.has(endpoint.address)) {
        for (const address of interfaceAddresses()) own.add(address);
        continue;
      }
      const found =
        isIP(endpoint.address) !== 0
          ? [endpoint.address]
          : await lookup(endpoint.address, { all: true }).then(
              (results) => results.map((result) => result.address),
              () => [],
            );
      for (const address of found) {
        const normalized = normalize(address);
        if (normalized) own.add(normalized);
      }
    }
    return own;
  }

  /** Whether connecting to `address` (an IP) on `port` would reach one of this worker's listeners. */
  async isSelf(address: string, port: number): Promise<boolean> {
    const target = normalize(address);
    if (target === undefined) return false;
    for (const endpoint of this.endpoints()) {
      if (endpoint.port !== port) continue;
      // The unspecified address connects to this machine, whichever address the listener has.
      if (target === '0.0.0.0' || target === '::') return true;
      if (WILDCARDS.has(endpoint.address)) {
        if (inNetworks(target, ALWAYS_LOCAL) || interfaceAddresses().has(target)) return true;
        continue;
      }
      const own =
        isIP(endpoint.address) !== 0
          ? [endpoint.address]
          : await lookup(endpoint.address, { all: true }).then(
              (results) => results.map((result) => result.address),
              () => [],
            );
      if (own.some((candidate) => normalize(candidate) === target)) return true;
    }
    return false;
  }
}
