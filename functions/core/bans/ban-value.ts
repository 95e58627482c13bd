import type { BanKind } from '../../contract/abuse.js';
import { formatIPv4, formatIPv6, parseCidr } from '../net/index.js';

/** A ban value that cannot be stored: a host network that does not parse (its text says why). */
export class InvalidBanError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidBanError';
  }
}

/**
 * A ban's value as stored and matched: a host is lower-cased; a host network (`203.0.113.0/24`,
 * `2001:db8::/48`) is checked and written in its canonical form, so that one network has one ban.
 * Users and classes are kept as given.
 */
export function canonicalBanValue(kind: BanKind, value: string): string {
  if (kind !== 'host') return value;
  if (!value.includes('/')) return value.toLowerCase();
  const parsed = parseCidr(value);
  if (!parsed.ok) throw new InvalidBanError(parsed.error);
  const { cidr } = parsed;
  return cidr.family === 4
    ? `${formatIPv4(cidr.network.subarray(12))}/${cidr.prefix - 96}`
    : `${formatIPv6(cidr.network)}/${cidr.prefix}`;
}
