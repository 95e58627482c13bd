/**
 * PROXY protocol headers the proxy writes to a backend right after connecting, before reading the banner
 * (mod_proxy `UseProxyProtocolV1`, `UseProxyProtocolV2`, `UseProxyProtocolV2TLVs`; http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyOptions).
 *
 * Addresses are given as Node reports them (`socket.remoteAddress` / `localAddress`): IPv4, IPv6 or
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, treated as IPv4). An IPv6 zone id (`%eth0`) is dropped: the PROXY
 * formats cannot carry one. A non-IP address or a port outside 0-65535 throws (TypeError / RangeError).
 */

import {
  formatIPv4,
  formatIPv6,
  mapIPv4,
  type ParsedAddress,
  parseAddress,
} from '../../functions/core/net/index.js';
import { crc32c } from './crc32c.js';
import {
  type ProxyAddress,
  type ProxyTlv,
  SSL_CLIENT,
  TLV,
  UNIQUE_ID_MAX_LENGTH,
  V2_FIXED_LENGTH,
  V2_SIGNATURE,
} from './types.js';

export interface ProxyEndpoints {
  /** The frontend client (its address and port). */
  source: ProxyAddress;
  /** The proxy's local address and port on the frontend connection. */
  destination: ProxyAddress;
}

export interface EncodeV1Options extends ProxyEndpoints {
  /**
   * The backend connection is IPv4. mod_proxy sends `PROXY UNKNOWN\r\n` instead of a TCP6 line to an IPv4
   * backend; a TCP4 line is sent whatever the backend is.
   */
  backendIsIPv4?: boolean;
}

export interface EncodeV2Options extends ProxyEndpoints {
  /** Written in the order given (see `buildV2Tlvs` for mod_proxy's order). */
  tlvs?: readonly ProxyTlv[];
  /** Append a PP2_TYPE_CRC32C TLV holding the checksum of the whole header. */
  checksum?: boolean;
}

export interface EncodeV2LocalOptions {
  tlvs?: readonly ProxyTlv[];
  checksum?: boolean;
}

const MAX_U16 = 0xffff;
const TLV_HEADER_LENGTH = 3;
const CRC_TLV_LENGTH = TLV_HEADER_LENGTH + 4;

interface Endpoint {
  address: ParsedAddress;
  port: number;
}

function endpoint(role: 'source' | 'destination', value: ProxyAddress): Endpoint {
  const address = parseAddress(value.address);
  if (!address) {
    throw new TypeError(`PROXY ${role} address is not an IP address: ${JSON.stringify(value.address)}`);
  }
  if (!Number.isInteger(value.port) || value.port < 0 || value.port > MAX_U16) {
    throw new RangeError(`PROXY ${role} port must be an integer 0-65535, got ${value.port}`);
  }
  return { address, port: value.port };
}

function asIPv6Bytes(address: ParsedAddress): Uint8Array {
  return address.family === 4 ? mapIPv4(address.bytes) : address.bytes;
}

/**
 * `PROXY TCP4|TCP6|UNKNOWN ...\r\n`, as mod_proxy builds it: TCP4 only when both addresses are IPv4;
 * otherwise TCP6 with IPv4 written `::ffff:a.b.c.d`, or `PROXY UNKNOWN\r\n` when the backend is IPv4.
 */
export function encodeV1(options: EncodeV1Options): Buffer {
  const source = endpoint('source', options.source);
  const destination = endpoint('destination', options.destination);
  if (source.address.family === 4 && destination.address.family === 4) {
    return Buffer.from(
      `PROXY TCP4 ${formatIPv4(source.address.bytes)} ${formatIPv4(destination.address.bytes)} ${source.port} ${destination.port}\r\n`,
      'latin1',
    );
  }
  if (options.backendIsIPv4) return encodeV1Unknown();
  return Buffer.from(
    `PROXY TCP6 ${formatIPv6(asIPv6Bytes(source.address))} ${formatIPv6(asIPv6Bytes(destination.address))} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

/** `PROXY UNKNOWN\r\n` (the short form: no addresses). */
export function encodeV1Unknown(): Buffer {
  return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
}

function checkTlv(tlv: ProxyTlv): void {
  if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) {
    throw new RangeError(`PROXY v2 TLV type must be an integer 0-255, got ${tlv.type}`);
  }
  if (tlv.value.length > MAX_U16) {
    throw new RangeError(
      `PROXY v2 TLV 0x${tlv.type.toString(16)} value is ${tlv.value.length} bytes (max ${MAX_U16})`,
    );
  }
}

function buildV2(
  command: 0x0 | 0x1,
  family: number,
  addressBlock: Buffer,
  tlvs: readonly ProxyTlv[],
  checksum: boolean,
): Buffer {
  for (const tlv of tlvs) checkTlv(tlv);
  const bodyLength =
    addressBlock.length +
    tlvs.reduce((sum, tlv) => sum + TLV_HEADER_LENGTH + tlv.value.length, 0) +
    (checksum ? CRC_TLV_LENGTH : 0);
  if (bodyLength > MAX_U16) {
    throw new RangeError(
      `PROXY v2 header too long: ${bodyLength} bytes after the fixed part (the length field holds at most ${MAX_U16})`,
    );
  }
  const header = Buffer.alloc(V2_FIXED_LENGTH + bodyLength);
  V2_SIGNATURE.copy(header, 0);
  header[12] = 0x20 | command;
  header[13] = family;
  header.writeUInt16BE(bodyLength, 14);
  let offset = V2_FIXED_LENGTH;
  offset += addressBlock.copy(header, offset);
  for (const tlv of tlvs) {
    header[offset] = tlv.type;
    header.writeUInt16BE(tlv.value.length, offset + 1);
    header.set(tlv.value, offset + TLV_HEADER_LENGTH);
    offset += TLV_HEADER_LENGTH + tlv.value.length;
  }
  if (checksum) {
    header[offset] = TLV.CRC32C;
    header.writeUInt16BE(4, offset + 1);
    // The value is still zero, as the checksum is computed over the header with a zeroed field.
    header.writeUInt32BE(crc32c(header), offset + TLV_HEADER_LENGTH);
  }
  return header;
}

/**
 * Binary v2 header with the PROXY command: family 0x11 (TCP over IPv4) when both addresses are IPv4,
 * else 0x21 (TCP over IPv6) with an IPv4 address written IPv4-mapped; then the TLVs.
 */
export function encodeV2(options: EncodeV2Options): Buffer {
  const source = endpoint('source', options.source);
  const destination = endpoint('destination', options.destination);
  const ipv4 = source.address.family === 4 && destination.address.family === 4;
  const addressLength = ipv4 ? 4 : 16;
  const block = Buffer.alloc(2 * addressLength + 4);
  block.set(ipv4 ? source.address.bytes : asIPv6Bytes(source.address), 0);
  block.set(ipv4 ? destination.address.bytes : asIPv6Bytes(destination.address), addressLength);
  block.writeUInt16BE(source.port, 2 * addressLength);
  block.writeUInt16BE(destination.port, 2 * addressLength + 2);
  return buildV2(0x1, ipv4 ? 0x11 : 0x21, block, options.tlvs ?? [], options.checksum ?? false);
}

/**
 * Binary v2 header with the LOCAL command and AF_UNSPEC (family byte 0x00, no address block): for
 * connections the proxy makes on its own behalf, e.g. health checks. The receiver uses the real endpoints.
 */
export function encodeV2Local(options: EncodeV2LocalOptions = {}): Buffer {
  return buildV2(0x0, 0x00, Buffer.alloc(0), options.tlvs ?? [], options.checksum ?? false);
}

// ---------------------------------------------------------------------------------------------------------
// TLV builders

/** A TLV from raw bytes or a UTF-8 string; the value is copied. Throws RangeError beyond 65535 bytes. */
export function tlv(type: number, value: Uint8Array | string): ProxyTlv {
  const result = { type, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value) };
  checkTlv(result);
  return result;
}

/** PP2_TYPE_ALPN (0x01): the protocol name, e.g. `ftp`, `ftps`, `sftp`, or an upstream ALPN value. */
export function alpnTlv(protocol: string | Uint8Array): ProxyTlv {
  return tlv(TLV.ALPN, protocol);
}

/** PP2_TYPE_AUTHORITY (0x02): the host name the client asked for (upstream note, FTP HOST, or TLS SNI). */
export function authorityTlv(authority: string): ProxyTlv {
  return tlv(TLV.AUTHORITY, authority);
}

/** PP2_TYPE_UNIQUE_ID (0x05): an opaque id of at most 128 bytes (RangeError beyond). */
export function uniqueIdTlv(id: string | Uint8Array): ProxyTlv {
  const result = tlv(TLV.UNIQUE_ID, id);
  if (result.value.length > UNIQUE_ID_MAX_LENGTH) {
    throw new RangeError(
      `PROXY v2 UNIQUE_ID is ${result.value.length} bytes (the spec allows ${UNIQUE_ID_MAX_LENGTH})`,
    );
  }
  return result;
}

/** What the SSL TLV (0x20) describes about the frontend TLS session. */
export interface SslTlvInfo {
  /** The client connected over TLS (PP2_CLIENT_SSL, 0x01). */
  tls: boolean;
  /** The client presented a certificate on this connection (PP2_CLIENT_CERT_CONN, 0x02). */
  clientCertificate?: boolean;
  /** The client presented a certificate at least once in this TLS session (PP2_CLIENT_CERT_SESS, 0x04). */
  certificateInSession?: boolean;
  /**
   * 0 when a client certificate was presented and verified, non-zero otherwise. Default as mod_proxy:
   * 0 with `clientCertificate`, else 1.
   */
  verify?: number;
  /** PP2_SUBTYPE_SSL_VERSION (0x21), e.g. `TLSv1.3`. */
  version?: string;
  /** PP2_SUBTYPE_SSL_CN (0x22): the client certificate's subject CN. */
  commonName?: string;
  /** PP2_SUBTYPE_SSL_CIPHER (0x23), e.g. `ECDHE-RSA-AES128-GCM-SHA256`. */
  cipher?: string;
  /** PP2_SUBTYPE_SSL_SIG_ALG (0x24), e.g. `RSA-SHA256`. */
  signatureAlgorithm?: string;
  /** PP2_SUBTYPE_SSL_KEY_ALG (0x25), e.g. `RSA2048`. */
  keyAlgorithm?: string;
}

/** PP2_TYPE_SSL (0x20): client bits, verify, then the sub-TLVs 0x21-0x25 that are set, in that order. */
export function sslTlv(info: SslTlvInfo): ProxyTlv {
  const client =
    (info.tls ? SSL_CLIENT.SSL : 0) |
    (info.clientCertificate ? SSL_CLIENT.CERT_CONN : 0) |
    (info.certificateInSession ? SSL_CLIENT.CERT_SESS : 0);
  const verify = info.verify ?? (info.clientCertificate ? 0 : 1);
  if (!Number.isInteger(verify) || verify < 0 || verify > 0xffffffff) {
    throw new RangeError(`PROXY v2 SSL verify must be a 32-bit unsigned integer, got ${verify}`);
  }
  const subTlvs: ProxyTlv[] = [];
  const add = (type: number, text: string | undefined) => {
    if (text !== undefined) subTlvs.push(tlv(type, text));
  };
  add(TLV.SSL_VERSION, info.version);
  add(TLV.SSL_CN, info.commonName);
  add(TLV.SSL_CIPHER, info.cipher);
  add(TLV.SSL_SIG_ALG, info.signatureAlgorithm);
  add(TLV.SSL_KEY_ALG, info.keyAlgorithm);
  const fixed = Buffer.alloc(5);
  fixed[0] = client;
  fixed.writeUInt32BE(verify, 1);
  return tlv(TLV.SSL, Buffer.concat([fixed, ...subTlvs.map(serializeTlv)]));
}

/** AWS TLV (0xEA) with sub-type 0x01: the VPC endpoint id (US-ASCII), as an AWS NLB sends it. */
export function awsVpceIdTlv(vpceId: string): ProxyTlv {
  return tlv(TLV.AWS, Buffer.concat([Buffer.from([0x01]), Buffer.from(vpceId, 'latin1')]));
}

/** Azure TLV (0xEE) with sub-type 0x01: the private endpoint LINKID, a 32-bit little-endian integer. */
export function azureLinkIdTlv(linkId: number): ProxyTlv {
  if (!Number.isInteger(linkId) || linkId < 0 || linkId > 0xffffffff) {
    throw new RangeError(`Azure LINKID must be a 32-bit unsigned integer, got ${linkId}`);
  }
  const value = Buffer.alloc(5);
  value[0] = 0x01;
  value.writeUInt32LE(linkId, 1);
  return tlv(TLV.AZURE, value);
}

/** The AWS (0xEA) and Azure (0xEE) TLVs of a header received upstream, copied, in their order. */
export function passThroughTlvs(received: readonly ProxyTlv[]): ProxyTlv[] {
  return received
    .filter((t) => t.type === TLV.AWS || t.type === TLV.AZURE)
    .map((t) => ({ type: t.type, value: Buffer.from(t.value) }));
}

/** What `buildV2Tlvs` may include; an undefined or empty value is left out. */
export interface V2TlvSources {
  /** Upstream ALPN, else the session protocol (`ftp`, `ftps`, `sftp`). */
  alpn?: string | Uint8Array;
  /** Upstream authority, else the FTP HOST argument, else the TLS SNI. */
  authority?: string;
  /** The frontend TLS session; omit for a plain connection. */
  ssl?: SslTlvInfo;
  uniqueId?: string | Uint8Array;
  /** TLVs received in an upstream PROXY header; only AWS (0xEA) and Azure (0xEE) ones are forwarded. */
  upstream?: readonly ProxyTlv[];
}

/** The TLVs mod_proxy sends with `UseProxyProtocolV2TLVs`, in its order: ALPN, Authority, SSL, Unique-ID, AWS/Azure. */
export function buildV2Tlvs(sources: V2TlvSources): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  if (sources.alpn !== undefined && sources.alpn.length > 0) tlvs.push(alpnTlv(sources.alpn));
  if (sources.authority !== undefined && sources.authority.length > 0) {
    tlvs.push(authorityTlv(sources.authority));
  }
  if (sources.ssl) tlvs.push(sslTlv(sources.ssl));
  if (sources.uniqueId !== undefined && sources.uniqueId.length > 0) tlvs.push(uniqueIdTlv(sources.uniqueId));
  if (sources.upstream) tlvs.push(...passThroughTlvs(sources.upstream));
  return tlvs;
}

/** Type, 16-bit length, value. */
export function serializeTlv(t: ProxyTlv): Buffer {
  checkTlv(t);
  const out = Buffer.alloc(TLV_HEADER_LENGTH + t.value.length);
  out[0] = t.type;
  out.writeUInt16BE(t.value.length, 1);
  out.set(t.value, TLV_HEADER_LENGTH);
  return out;
}
