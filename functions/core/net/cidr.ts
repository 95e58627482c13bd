/**
 * Networks in CIDR notation: the sources trusted to send PROXY headers (the load balancer), the hosts
 * AllowForeignAddress lets PORT/EPRT name.
 *
 * Matching happens in IPv6 space with IPv4 mapped (`a.b.c.d/n` is `::ffff:a.b.c.d/(96+n)`), so an IPv4
 * CIDR matches a client Node reports as `::ffff:a.b.c.d` on a dual-stack listener, and an IPv6 CIDR that
 * covers `::ffff:0:0/96` (e.g. `::/0`) also matches IPv4 clients.
 */

import { formatIPv4, formatIPv6, mapIPv4, parseAddress, parseIPv4, parseIPv6 } from './ip.js';

export interface Cidr {
  /** The entry as written (trimmed). */
  readonly text: string;
  readonly family: 4 | 6;
  /** The network in IPv6 space (IPv4 mapped), host bits zero. */
  readonly network: Uint8Array;
  /** Prefix length in IPv6 space (an IPv4 /n is 96 + n). */
  readonly prefix: number;
}

export type ParseCidrResult = { ok: true; cidr: Cidr } | { ok: false; error: string };

/**
 * Parses `a.b.c.d/n` (n 0-32), `ipv6/n` (n 0-128) or a bare address (a single host: /32 or /128).
 * Surrounding spaces are ignored. Rejected with an error naming the entry: a bad address (IPv4 with
 * leading zeros included, as they read as octal elsewhere), a zone id, a bad or out-of-range prefix, and
 * host bits set (`10.0.0.1/8`; the error suggests `10.0.0.0/8`), which is usually a typo that would
 * trust a wider network than meant.
 */
export function parseCidr(text: string): ParseCidrResult {
  const entry = text.trim();
  const fail = (why: string): ParseCidrResult => ({
    ok: false,
    error: `invalid CIDR ${JSON.stringify(text)}: ${why}`,
  });
  const slash = entry.indexOf('/');
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);

  const v4 = parseIPv4(addressText);
  const v6 = v4 ? undefined : parseIPv6(addressText);
  if (!v4 && !v6) {
    if (addressText.includes('%')) return fail('zone ids are not allowed');
    return fail(`${JSON.stringify(addressText)} is not an IPv4 or IPv6 address`);
  }
  const family: 4 | 6 = v4 ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  let length = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
      return fail(`prefix length ${JSON.stringify(prefixText)} is not a number`);
    }
    length = Number(prefixText);
    if (length > bits) return fail(`prefix length must be 0-${bits} for IPv${family}`);
  }
  const network = v4 ? mapIPv4(v4) : (v6 as Uint8Array);
  const prefix = family === 4 ? 96 + length : length;
  const masked = maskBytes(network, prefix);
  if (!masked.every((byte, i) => byte === network[i])) {
    const suggestion = family === 4 ? formatIPv4(masked.subarray(12)) : formatIPv6(masked);
    return fail(`host bits are set (did you mean "${suggestion}/${length}"?)`);
  }
  return { ok: true, cidr: { text: entry, family, network: masked, prefix } };
}

/** Parses every entry; the first bad one is reported. */
export function parseCidrList(
  texts: readonly string[],
): { ok: true; cidrs: Cidr[] } | { ok: false; error: string } {
  const cidrs: Cidr[] = [];
  for (const text of texts) {
    const result = parseCidr(text);
    if (!result.ok) return result;
    cidrs.push(result.cidr);
  }
  return { ok: true, cidrs };
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Whether `address` (IPv4, IPv6, IPv4-mapped; a zone id is ignored) is inside `cidr`. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  const bytes = parsed.family === 4 ? mapIPv4(parsed.bytes) : parsed.bytes;
  const masked = maskBytes(bytes, cidr.prefix);
  return masked.every((byte, i) => byte === cidr.network[i]);
}

/**
 * Whether `address` lies in one of `cidrs` (strings as in
 * `parseCidr`, or already parsed). Fails closed: an unparsable address, or a string entry that does not
 * parse, matches nothing (validate the configuration with `parseCidr` / `parseCidrList` up front).
 */
export function inNetworks(address: string, cidrs: readonly (string | Cidr)[]): boolean {
  for (const entry of cidrs) {
    let cidr: Cidr;
    if (typeof entry === 'string') {
      const parsed = parseCidr(entry);
      if (!parsed.ok) continue;
      cidr = parsed.cidr;
    } else {
      cidr = entry;
    }
    if (cidrContains(cidr, address)) return true;
  }
  return false;
}
