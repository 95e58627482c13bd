import { isIP } from 'node:net';
import { type BackendProtocol, type BackendUrl, parseBackendUrl } from '../backend-url.js';
import { type DiscoverySettings, effectiveTtlSeconds } from './discovery-settings.js';
import type { DnsClient } from './dns-client.js';

/** One address to connect to, found through a `+srv` / `+txt` URL. */
export interface DiscoveredTarget {
  protocol: BackendProtocol;
  /** The SRV target or TXT URL host (an address when the record named one). */
  host: string;
  address: string;
  port: number;
  priority: number;
  weight: number;
}

/**
 * What a `+srv` / `+txt` URL resolved to:
 * - `records`: SRV targets / the TXT URL, with their addresses;
 * - `fallback`: no SRV (TXT) record, the URL's host has A/AAAA records (mod_proxy does the same);
 * - `no-service`: the SRV answer's only target is "." (RFC 2782: decidedly not available);
 * - `not-found`: nothing usable at all.
 * `targets` are in a stable order (priority ascending, weight descending, host, port, address), so
 * policies that work by position (RoundRobin, sticky ranking) see the same list on every worker.
 */
export interface Discovery {
  source: string;
  outcome: 'records' | 'fallback' | 'no-service' | 'not-found';
  targets: DiscoveredTarget[];
  ttlSeconds: number;
  /** Why some records gave no target (unresolvable SRV targets, TXT records that are no URL). */
  notes: string[];
}

interface Address {
  address: string;
  ttl: number;
}

/** Resolves one discovery URL. Throws DnsLookupError when the DNS servers give no usable answer. */
export async function discover(
  source: string,
  url: BackendUrl,
  dns: DnsClient,
  settings: DiscoverySettings,
): Promise<Discovery> {
  const notes: string[] = [];
  const ttls: number[] = [];
  const targets: DiscoveredTarget[] = [];
  if (url.discovery === 'srv') {
    const srv = await dns.lookup(url.host, 'SRV');
    const records = srv.answers.flatMap((answer) => (answer.type === 'SRV' ? [answer] : []));
    if (records.length > 0) {
      ttls.push(...records.map((record) => record.ttl));
      const real = records.filter((record) => record.target !== '.' && record.target !== '');
      if (real.length === 0) {
        return {
          source,
          outcome: 'no-service',
          targets: [],
          ttlSeconds: effectiveTtlSeconds(ttls, settings),
          notes,
        };
      }
      const resolved = await Promise.all(real.map((record) => addressesOf(record.target, dns)));
      real.forEach((record, i) => {
        const found = resolved[i] as { addresses: Address[]; note?: string };
        if (found.note) notes.push(`SRV target ${record.target}: ${found.note}`);
        for (const { address, ttl } of found.addresses) {
          if (Number.isFinite(ttl)) ttls.push(ttl);
          targets.push({
            protocol: url.protocol,
            host: record.target,
            address,
            port: record.port,
            priority: record.priority,
            weight: record.weight,
          });
        }
      });
      return finish(source, 'records', targets, ttls, notes, settings);
    }
    notes.push(srv.nxdomain ? `${url.host} does not exist (NXDOMAIN)` : `${url.host} has no SRV record`);
  } else {
    const txt = await dns.lookup(url.host, 'TXT');
    for (const answer of txt.answers) {
      if (answer.type !== 'TXT') continue;
      const parsed = parseBackendUrl(answer.text);
      if (!parsed.ok || parsed.url.discovery) continue;
      ttls.push(answer.ttl);
      const found = await addressesOf(parsed.url.host, dns);
      if (found.note) notes.push(`TXT URL host ${parsed.url.host}: ${found.note}`);
      for (const { address, ttl } of found.addresses) {
        if (Number.isFinite(ttl)) ttls.push(ttl);
        // Credentials in a TXT record are ignored: DNS is public. Put them in the +txt URL instead.
        targets.push({
          protocol: parsed.url.protocol,
          host: parsed.url.host,
          address,
          port: parsed.url.port,
          priority: 0,
          weight: 0,
        });
      }
      return finish(source, 'records', targets, ttls, notes, settings);
    }
    notes.push(
      txt.nxdomain
        ? `${url.host} does not exist (NXDOMAIN)`
        : `${url.host} has no TXT record holding a plain URL`,
    );
  }
  // mod_proxy's fallback: the URL's own host, by its A/AAAA records, on the URL's port.
  const fallback = await addressesOf(url.host, dns);
  for (const { address, ttl } of fallback.addresses) {
    if (Number.isFinite(ttl)) ttls.push(ttl);
    targets.push({ protocol: url.protocol, host: url.host, address, port: url.port, priority: 0, weight: 0 });
  }
  if (targets.length === 0) {
    return { source, outcome: 'not-found', targets, ttlSeconds: settings.negativeTtlSeconds, notes };
  }
  return finish(source, 'fallback', targets, ttls, notes, settings);
}

function finish(
  source: string,
  outcome: 'records' | 'fallback',
  targets: DiscoveredTarget[],
  ttls: number[],
  notes: string[],
  settings: DiscoverySettings,
): Discovery {
  if (targets.length === 0) {
    return { source, outcome: 'not-found', targets, ttlSeconds: settings.negativeTtlSeconds, notes };
  }
  targets.sort(
    (a, b) =>
      a.priority - b.priority ||
      b.weight - a.weight ||
      a.host.localeCompare(b.host) ||
      a.port - b.port ||
      a.address.localeCompare(b.address),
  );
  return { source, outcome, targets, ttlSeconds: effectiveTtlSeconds(ttls, settings), notes };
}

/** A host's IPv4 then IPv6 addresses with their TTLs (an address literal is its own, forever). */
async function addressesOf(host: string, dns: DnsClient): Promise<{ addresses: Address[]; note?: string }> {
  if (isIP(host) !== 0) return { addresses: [{ address: host, ttl: Number.POSITIVE_INFINITY }] };
  const [v4, v6] = await Promise.allSettled([dns.lookup(host, 'A'), dns.lookup(host, 'AAAA')]);
  const addresses: Address[] = [];
  const problems: string[] = [];
  for (const result of [v4, v6]) {
    if (result.status === 'rejected') {
      problems.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
      continue;
    }
    for (const answer of result.value.answers) {
      if (answer.type === 'A' || answer.type === 'AAAA')
        addresses.push({ address: answer.address, ttl: answer.ttl });
    }
  }
  if (addresses.length > 0) return { addresses };
  if (problems.length === 2) return { addresses, note: problems.join('; ') };
  return { addresses, note: 'no A or AAAA record' };
}
