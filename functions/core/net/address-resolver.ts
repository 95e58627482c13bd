import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DnsClient, type DnsServer } from '../discovery/index.js';
import { canonicalAddress } from './destination-policy.js';

/** Every A and AAAA address of a name, in the resolver's order. */
export type ResolveAddresses = (host: string) => Promise<string[]>;

/** A name that does not exist: callers map `code` as they would the system resolver's error. */
class NameNotFoundError extends Error {
  override readonly name = 'NameNotFoundError';
  readonly code = 'ENOTFOUND';
}

/**
 * The numeric host forms inet_aton(3) accepts besides the dotted quad: `a` (32 bits), `a.b` (8.24),
 * `a.b.c` (8.8.16) and `a.b.c.d`, each part decimal, octal (leading 0) or hex (0x). getaddrinfo(3)
 * turns them into addresses without asking DNS; ftpx does the same itself, so whatever resolver is
 * in use, `2130706433`, `0177.0.0.1` and `0x7f.1` all mean 127.0.0.1 and are judged as that.
 */
export function parseInetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]{1,8}$/.test(part)) value = Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]{0,11}$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^[1-9][0-9]{0,9}$/.test(part)) value = Number(part);
    else return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((value) => value > 255)) return undefined;
  const lastBits = 8 * (4 - values.length);
  if (last >= 2 ** lastBits) return undefined;
  const bytes = [...values];
  for (let shift = lastBits - 8; shift >= 0; shift -= 8) bytes.push(Math.floor(last / 2 ** shift) % 256);
  return bytes.join('.');
}

/** An IP address written any way the system would accept, canonical; undefined for a host name. */
export function numericHost(host: string): string | undefined {
  if (isIP(host) !== 0) return canonicalAddress(host) ?? host;
  return parseInetAton(host);
}

/**
 * Resolves destinations nobody on the operator's side wrote (forward destinations, registered and
 * discovered backends): through `servers` when there are any (the servers discovery asks), else the
 * system's resolver. Numeric forms never reach a resolver. The edge builds one from its `dns`
 * block, the control plane's health checks from its discovery settings.
 */
export function addressResolver(servers: readonly DnsServer[], timeoutMs: number): ResolveAddresses {
  const client = servers.length > 0 ? new DnsClient({ servers, timeoutMs }) : undefined;
  return async (host) => {
    const numeric = numericHost(host);
    if (numeric !== undefined) return [numeric];
    if (!client) {
      const results = await lookup(host, { all: true, verbatim: true });
      return results.map((result) => result.address);
    }
    const [v4, v6] = await Promise.all([client.lookup(host, 'A'), client.lookup(host, 'AAAA')]);
    const addresses = [...v4.answers, ...v6.answers].flatMap((answer) =>
      answer.type === 'A' || answer.type === 'AAAA' ? [answer.address] : [],
    );
    if (addresses.length === 0) {
      throw new NameNotFoundError(v4.nxdomain ? `${host}: no such name` : `${host}: no A or AAAA records`);
    }
    return addresses;
  };
}
