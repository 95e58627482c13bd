/**
 * Shared types and constants of the HAProxy PROXY protocol (versions 1 and 2, "proxy-protocol.txt").
 */

export interface ProxyAddress {
  address: string;
  port: number;
}

/** One v2 Type-Length-Value vector; `value` is the raw bytes (at most 65535). */
export interface ProxyTlv {
  type: number;
  value: Buffer;
}

/**
 * A decoded PROXY header.
 *
 * - `command: 'local'` (v2 only): a connection the sender made for itself (health check); use the real
 *   socket endpoints. `source`/`destination` are never set.
 * - `command: 'proxy'` with `family: 'UNKNOWN'` (v1 `PROXY UNKNOWN`, v2 AF_UNSPEC / UNSPEC protocol /
 *   AF_UNIX): the sender speaks PROXY but has no TCP endpoints; use the real socket endpoints.
 * - `command: 'proxy'` with `family: 'TCP4' | 'TCP6'`: `source` is the original client, `destination` the
 *   address the client connected to.
 *
 * Addresses are normalised: IPv4 as a dotted quad, IPv6 in RFC 5952 text, and an IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`, which mod_proxy sends for an IPv4 client when the pair is mixed) as the plain dotted
 * IPv4 address. `family` keeps what the wire said, so a TCP6 header may carry a dotted IPv4 `source`.
 */
export interface ProxyHeader {
  version: 1 | 2;
  command: 'proxy' | 'local';
  family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  source?: ProxyAddress;
  destination?: ProxyAddress;
  /** v2 TLVs in wire order, raw (CRC32C and NOOP included); always empty for v1. */
  tlvs: ProxyTlv[];
}

/** The 12-byte v2 signature. */
export const V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Longest v1 line including CRLF ("PROXY UNKNOWN" + two full IPv6 addresses + two ports). */
export const V1_MAX_LENGTH = 107;
/** Fixed part of a v2 header (signature, ver/cmd, family, 16-bit length). */
export const V2_FIXED_LENGTH = 16;
/** Largest possible v2 header: the length field is 16 bits. */
export const V2_MAX_LENGTH = V2_FIXED_LENGTH + 0xffff;
/** Spec limit for PP2_TYPE_UNIQUE_ID. */
export const UNIQUE_ID_MAX_LENGTH = 128;

/** Registered TLV types (spec 2.2) plus the cloud types mod_proxy passes through. */
export const TLV = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
  /** AWS (NLB / PrivateLink): first value byte is a sub-type, 0x01 = VPC endpoint id (US-ASCII). */
  AWS: 0xea,
  /** Azure (Private Link): first value byte is a sub-type, 0x01 = private endpoint LINKID (uint32 LE). */
  AZURE: 0xee,
} as const;

/** Bits of the SSL TLV `client` byte. */
export const SSL_CLIENT = {
  SSL: 0x01,
  CERT_CONN: 0x02,
  CERT_SESS: 0x04,
} as const;
