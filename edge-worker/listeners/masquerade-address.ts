import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';

/** MasqueradeAddress could not be turned into an IPv4 address for 227 replies. */
export class MasqueradeAddressError extends Error {
  override readonly name = 'MasqueradeAddressError';
}

/**
 * MasqueradeAddress as an IPv4 address: given as one, or a host name resolved once at start (as
 * ProFTPD does). PASV replies can only carry IPv4.
 */
export async function resolveMasqueradeAddress(value: string | undefined): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (isIPv4(value)) return value;
  try {
    const { address } = await lookup(value, { family: 4 });
    return address;
  } catch (err) {
    throw new MasqueradeAddressError(`MasqueradeAddress ${value} does not resolve to an IPv4 address`, {
      cause: err,
    });
  }
}
