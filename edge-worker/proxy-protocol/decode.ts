/**
 * Reading PROXY protocol headers (v1 text, v2 binary) that a load balancer puts in front of a client
 * connection on a listener.
 *
 * `parseProxyHeader` is pure and incremental: call it on the first bytes received so far, again on more.
 * `readProxyHeader` drives it on a socket and hands the socket back with the bytes after the header put
 * back, so the FTP/SSH session reads an untouched stream.
 *
 * Only sources the configuration trusts (see `inNetworks`) may carry a header: the spec warns that
 * accepting it from anyone lets any client spoof its address.
 */

import type { Socket } from 'node:net';
import { normalizeAddressBytes, parseIPv4, parseIPv6 } from '../../functions/core/net/index.js';
import { crc32c } from './crc32c.js';
import type { SslTlvInfo } from './encode.js';
import {
  type ProxyAddress,
  type ProxyHeader,
  type ProxyTlv,
  SSL_CLIENT,
  TLV,
  UNIQUE_ID_MAX_LENGTH,
  V1_MAX_LENGTH,
  V2_FIXED_LENGTH,
  V2_MAX_LENGTH,
  V2_SIGNATURE,
} from './types.js';

export type ParseResult =
  /** A prefix of a possible header: call again with more bytes. */
  | { kind: 'incomplete' }
  /** A complete, valid header of `length` bytes; anything after it belongs to the session. */
  | { kind: 'header'; header: ProxyHeader; length: number }
  /** The bytes do not start a PROXY header (neither `PROXY` nor the first 5 bytes of the v2 signature). */
  | { kind: 'none' }
  /** The bytes start a PROXY header but break the spec; the connection should be dropped. */
  | { kind: 'invalid'; reason: string };

export interface ParseOptions {
  /** Largest v2 header accepted, the 16-byte fixed part included. Default (and ceiling): 65551. */
  maxV2Length?: number;
}

const INCOMPLETE: ParseResult = { kind: 'incomplete' };
const NONE: ParseResult = { kind: 'none' };
const V1_PREFIX = 'PROXY ';
/** Bytes that must match before the input counts as a (possibly broken) header rather than "none". */
const V1_COMMIT = 5;
const V2_COMMIT = 5;

function invalid(reason: string): ParseResult {
  return { kind: 'invalid', reason };
}

const hex = (n: number, width = 2) => `0x${n.toString(16).padStart(width, '0')}`;

/**
 * Decides what the first bytes of a connection are.
 *
 * - `incomplete` only while the bytes are still a plausible prefix and shorter than the limit (v1: 107
 *   bytes including CRLF; v2: 16 + the declared length, at most `maxV2Length`).
 * - `none` when the first byte is neither `P` nor 0x0D, when `PROXY` does not match, or when the first 5
 *   bytes of the v2 signature do not match; past those 5 bytes a mismatch is `invalid`.
 * - v1: exactly `PROXY SP (TCP4|TCP6) SP src SP dst SP sport SP dport CRLF` or `PROXY UNKNOWN[ anything]CRLF`;
 *   strict dotted-quad IPv4, IPv6 with 1-4 hex digit groups (an IPv4 tail allowed), ports 0-65535 without
 *   leading zeros; a bare CR or LF is invalid.
 * - v2: version 2; command LOCAL (addresses ignored) or PROXY; AF_INET/AF_INET6 + STREAM give addresses;
 *   AF_UNSPEC, the UNSPEC protocol and AF_UNIX give family UNKNOWN; DGRAM under PROXY is invalid (this is a
 *   stream listener); unassigned family/protocol values are invalid. TLVs after the address block are
 *   bounds-checked and kept raw; a CRC32C TLV is verified; UNIQUE_ID over 128 bytes and a malformed SSL TLV
 *   are invalid. When the address block is unspecified (AF_UNSPEC or UNSPEC protocol), bytes that do not
 *   parse as TLVs are ignored as unknown address data instead.
 */
export function parseProxyHeader(buffer: Buffer, options: ParseOptions = {}): ParseResult {
  if (buffer.length === 0) return INCOMPLETE;
  if (buffer[0] === 0x50) return parseV1(buffer);
  if (buffer[0] === 0x0d) {
    const limit = Math.min(options.maxV2Length ?? V2_MAX_LENGTH, V2_MAX_LENGTH);
    return parseV2(buffer, limit);
  }
  return NONE;
}

// ---------------------------------------------------------------------------------------------------------
// v1

function parseV1(buffer: Buffer): ParseResult {
  const prefixLength = Math.min(buffer.length, V1_PREFIX.length);
  for (let i = 0; i < prefixLength; i++) {
    if (buffer[i] !== V1_PREFIX.charCodeAt(i)) {
      return i < V1_COMMIT ? NONE : invalid('PROXY v1: expected a single space after "PROXY"');
    }
  }
  if (buffer.length <= V1_PREFIX.length) return INCOMPLETE;

  const scanEnd = Math.min(buffer.length, V1_MAX_LENGTH);
  for (let i = V1_PREFIX.length; i < scanEnd; i++) {
    const byte = buffer[i];
    if (byte === 0x0a) return invalid('PROXY v1: line feed without a preceding carriage return');
    if (byte !== 0x0d) continue;
    if (i + 2 > V1_MAX_LENGTH) return tooLong();
    if (i + 1 >= buffer.length) return checkPartialV1(buffer.toString('latin1', V1_PREFIX.length, i));
    if (buffer[i + 1] !== 0x0a) return invalid('PROXY v1: carriage return not followed by line feed');
    return parseV1Line(buffer.toString('latin1', V1_PREFIX.length, i), i + 2);
  }
  if (buffer.length >= V1_MAX_LENGTH) return tooLong();
  return checkPartialV1(buffer.toString('latin1', V1_PREFIX.length));
}

function tooLong(): ParseResult {
  return invalid(`PROXY v1: no CRLF within the first ${V1_MAX_LENGTH} bytes`);
}

const FIELD_NAMES = ['', 'source address', 'destination address', 'source port', 'destination port'];

function unsupportedProtocol(protocol: string): ParseResult {
  return invalid(
    `PROXY v1: unsupported protocol ${JSON.stringify(protocol)} (expected TCP4, TCP6 or UNKNOWN)`,
  );
}

/** Why field `index` (1-4) of a TCP4/TCP6 line is wrong, or undefined when it is fine. */
function checkV1Field(protocol: 'TCP4' | 'TCP6', index: number, text: string): string | undefined {
  const name = FIELD_NAMES[index] as string;
  if (index <= 2) {
    const ok = protocol === 'TCP4' ? parseIPv4(text) : parseIPv6(text);
    return ok ? undefined : `PROXY v1: bad ${name} ${JSON.stringify(text)} for ${protocol}`;
  }
  if (!/^[0-9]{1,5}$/.test(text)) {
    return `PROXY v1: bad ${name} ${JSON.stringify(text)} (not a decimal number)`;
  }
  if (text.length > 1 && text.startsWith('0')) {
    return `PROXY v1: bad ${name} ${JSON.stringify(text)} (leading zeros are not allowed)`;
  }
  if (Number(text) > 0xffff) return `PROXY v1: bad ${name} ${JSON.stringify(text)} (out of range 0-65535)`;
  return undefined;
}

function tooManyFields(protocol: string): ParseResult {
  return invalid(`PROXY v1: too many fields after ${protocol} (fields are separated by exactly one space)`);
}

/** Rejects a partial line (no CRLF yet) as soon as it can no longer become valid. */
function checkPartialV1(text: string): ParseResult {
  const space = text.indexOf(' ');
  const protocol = space === -1 ? text : text.slice(0, space);
  if (space === -1) {
    return ['TCP4', 'TCP6', 'UNKNOWN'].some((p) => p.startsWith(protocol))
      ? INCOMPLETE
      : unsupportedProtocol(protocol);
  }
  if (protocol === 'UNKNOWN') return INCOMPLETE;
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return unsupportedProtocol(protocol);
  const fields = text.slice(space + 1).split(' ');
  if (fields.length > 4) return tooManyFields(protocol);
  // Every field followed by a space is complete and can be checked now; the last one may still grow.
  for (let i = 0; i < fields.length - 1; i++) {
    const reason = checkV1Field(protocol, i + 1, fields[i] as string);
    if (reason) return invalid(reason);
  }
  const last = fields[fields.length - 1] as string;
  const allowed = fields.length <= 2 ? /^[0-9A-Fa-f:.]*$/ : /^[0-9]*$/;
  if (!allowed.test(last)) {
    return invalid(`PROXY v1: bad ${FIELD_NAMES[fields.length]} ${JSON.stringify(last)} for ${protocol}`);
  }
  return INCOMPLETE;
}

function parseV1Line(line: string, length: number): ParseResult {
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) {
    // The spec: the receiver must ignore anything after UNKNOWN up to the CRLF.
    return { kind: 'header', header: { version: 1, command: 'proxy', family: 'UNKNOWN', tlvs: [] }, length };
  }
  const fields = line.split(' ');
  const protocol = fields[0] as string;
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return unsupportedProtocol(protocol);
  if (fields.length > 5) return tooManyFields(protocol);
  if (fields.length < 5) {
    return invalid(
      `PROXY v1: expected "${protocol} <source address> <destination address> <source port> <destination port>", got ${fields.length - 1} field(s) after ${protocol}`,
    );
  }
  for (let i = 1; i <= 4; i++) {
    const reason = checkV1Field(protocol, i, fields[i] as string);
    if (reason) return invalid(reason);
  }
  const parse = protocol === 'TCP4' ? parseIPv4 : parseIPv6;
  const address = (text: string, port: string): ProxyAddress => ({
    address: normalizeAddressBytes(parse(text) as Uint8Array),
    port: Number(port),
  });
  return {
    kind: 'header',
    header: {
      version: 1,
      command: 'proxy',
      family: protocol,
      source: address(fields[1] as string, fields[3] as string),
      destination: address(fields[2] as string, fields[4] as string),
      tlvs: [],
    },
    length,
  };
}

// ---------------------------------------------------------------------------------------------------------
// v2

const FAMILY_NAMES = ['AF_UNSPEC', 'AF_INET', 'AF_INET6', 'AF_UNIX'];
/** Address block size for a family whose protocol is STREAM or DGRAM. */
const ADDRESS_BLOCK = [0, 12, 36, 216];

function parseV2(buffer: Buffer, limit: number): ParseResult {
  const signatureLength = Math.min(buffer.length, V2_SIGNATURE.length);
  for (let i = 0; i < signatureLength; i++) {
    if (buffer[i] !== V2_SIGNATURE[i]) {
      return i < V2_COMMIT
        ? NONE
        : invalid(
            `PROXY v2: bad signature (byte ${i} is ${hex(buffer[i] as number)}, expected ${hex(V2_SIGNATURE[i] as number)})`,
          );
    }
  }
  if (buffer.length <= V2_SIGNATURE.length) return INCOMPLETE;

  const versionCommand = buffer[12] as number;
  if (versionCommand >> 4 !== 2) {
    return invalid(
      `PROXY v2: unsupported version ${versionCommand >> 4} (ver/cmd byte ${hex(versionCommand)})`,
    );
  }
  const command = versionCommand & 0x0f;
  if (command > 1) {
    return invalid(`PROXY v2: unknown command ${hex(command, 1)} (expected LOCAL 0x0 or PROXY 0x1)`);
  }
  if (buffer.length < 14) return INCOMPLETE;

  const familyByte = buffer[13] as number;
  const family = familyByte >> 4;
  const protocol = familyByte & 0x0f;
  if (family > 3) {
    return invalid(`PROXY v2: unknown address family ${hex(family, 1)} (family byte ${hex(familyByte)})`);
  }
  if (protocol > 2) {
    return invalid(
      `PROXY v2: unknown transport protocol ${hex(protocol, 1)} (family byte ${hex(familyByte)})`,
    );
  }
  if (command === 1 && protocol === 2) {
    return invalid(
      `PROXY v2: transport protocol DGRAM (family byte ${hex(familyByte)}) is not supported on a stream listener`,
    );
  }
  if (buffer.length < V2_FIXED_LENGTH) return INCOMPLETE;

  const bodyLength = buffer.readUInt16BE(14);
  const total = V2_FIXED_LENGTH + bodyLength;
  if (total > limit) return invalid(`PROXY v2: header of ${total} bytes exceeds the ${limit}-byte limit`);
  const unspecified = family === 0 || protocol === 0;
  const blockLength = unspecified ? 0 : (ADDRESS_BLOCK[family] as number);
  if (bodyLength < blockLength) {
    return invalid(
      `PROXY v2: length ${bodyLength} is shorter than the ${blockLength}-byte ${FAMILY_NAMES[family]} address block`,
    );
  }
  if (buffer.length < total) return INCOMPLETE;

  const header = buffer.subarray(0, total);
  const tlvStart = V2_FIXED_LENGTH + blockLength;
  let tlvs = splitTlvs(header, tlvStart, total, 'PROXY v2');
  if (typeof tlvs === 'string') {
    // An unspecified address block may hold address data of unknown shape: what does not split into TLVs
    // is ignored. Otherwise a TLV area that does not split is invalid.
    if (!unspecified) return invalid(tlvs);
    tlvs = [];
  }
  const tlvError = checkTlvs(header, tlvStart, tlvs);
  if (tlvError) return invalid(tlvError);

  const result: ProxyHeader = {
    version: 2,
    command: command === 1 ? 'proxy' : 'local',
    family: 'UNKNOWN',
    tlvs,
  };
  if (command === 1 && protocol === 1 && (family === 1 || family === 2)) {
    const size = family === 1 ? 4 : 16;
    const at = V2_FIXED_LENGTH;
    result.family = family === 1 ? 'TCP4' : 'TCP6';
    result.source = {
      address: normalizeAddressBytes(header.subarray(at, at + size)),
      port: header.readUInt16BE(at + 2 * size),
    };
    result.destination = {
      address: normalizeAddressBytes(header.subarray(at + size, at + 2 * size)),
      port: header.readUInt16BE(at + 2 * size + 2),
    };
  }
  return { kind: 'header', header: result, length: total };
}

/** Splits `buffer[start, end)` into TLVs (values copied); a string says why it cannot. */
function splitTlvs(buffer: Buffer, start: number, end: number, label: string): ProxyTlv[] | string {
  const tlvs: ProxyTlv[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 3) {
      return `${label}: truncated TLV header at offset ${offset} (${end - offset} byte(s) left)`;
    }
    const type = buffer[offset] as number;
    const length = buffer.readUInt16BE(offset + 1);
    const available = end - offset - 3;
    if (length > available) {
      return `${label}: TLV ${hex(type)} at offset ${offset} declares ${length} bytes but only ${available} remain`;
    }
    tlvs.push({ type, value: Buffer.from(buffer.subarray(offset + 3, offset + 3 + length)) });
    offset += 3 + length;
  }
  return tlvs;
}

/** Checks the TLVs the spec constrains (CRC32C, UNIQUE_ID, SSL) and verifies the checksum. */
function checkTlvs(header: Buffer, start: number, tlvs: readonly ProxyTlv[]): string | undefined {
  let crcOffset: number | undefined;
  let offset = start;
  for (const t of tlvs) {
    if (t.type === TLV.CRC32C) {
      if (t.value.length !== 4) return `PROXY v2: CRC32C TLV must be 4 bytes, got ${t.value.length}`;
      if (crcOffset !== undefined) return 'PROXY v2: more than one CRC32C TLV';
      crcOffset = offset + 3;
    } else if (t.type === TLV.UNIQUE_ID && t.value.length > UNIQUE_ID_MAX_LENGTH) {
      return `PROXY v2: UNIQUE_ID TLV is ${t.value.length} bytes (at most ${UNIQUE_ID_MAX_LENGTH})`;
    } else if (t.type === TLV.SSL) {
      const ssl = parseSsl(t.value);
      if (typeof ssl === 'string') return ssl;
    }
    offset += 3 + t.value.length;
  }
  return crcOffset === undefined ? undefined : verifyCrc(header, crcOffset);
}

function verifyCrc(header: Buffer, crcOffset: number): string | undefined {
  const expected = header.readUInt32BE(crcOffset);
  const copy = Buffer.from(header);
  copy.fill(0, crcOffset, crcOffset + 4);
  const actual = crc32c(copy);
  return actual === expected
    ? undefined
    : `PROXY v2: CRC32C mismatch (header says ${hex(expected, 8)}, computed ${hex(actual, 8)})`;
}

// ---------------------------------------------------------------------------------------------------------
// SSL TLV

/** A decoded SSL TLV (0x20): the raw `client` bits and `verify`, the flags, and the known sub-TLVs. */
export interface DecodedSslTlv extends SslTlvInfo {
  client: number;
  verify: number;
  clientCertificate: boolean;
  certificateInSession: boolean;
  /** All sub-TLVs, raw, in wire order (unknown ones included). */
  subTlvs: ProxyTlv[];
}

const SSL_TEXT_FIELDS: Record<number, keyof SslTlvInfo> = {
  [TLV.SSL_VERSION]: 'version',
  [TLV.SSL_CN]: 'commonName',
  [TLV.SSL_CIPHER]: 'cipher',
  [TLV.SSL_SIG_ALG]: 'signatureAlgorithm',
  [TLV.SSL_KEY_ALG]: 'keyAlgorithm',
};

function parseSsl(value: Buffer): DecodedSslTlv | string {
  if (value.length < 5) {
    return `PROXY v2: SSL TLV needs at least 5 bytes (client, verify), got ${value.length}`;
  }
  const subTlvs = splitTlvs(value, 5, value.length, 'PROXY v2 SSL TLV');
  if (typeof subTlvs === 'string') return subTlvs;
  const client = value[0] as number;
  const decoded: DecodedSslTlv = {
    client,
    verify: value.readUInt32BE(1),
    tls: (client & SSL_CLIENT.SSL) !== 0,
    clientCertificate: (client & SSL_CLIENT.CERT_CONN) !== 0,
    certificateInSession: (client & SSL_CLIENT.CERT_SESS) !== 0,
    subTlvs,
  };
  for (const sub of subTlvs) {
    const field = SSL_TEXT_FIELDS[sub.type];
    if (field) (decoded as unknown as Record<string, string>)[field] = sub.value.toString('utf8');
  }
  return decoded;
}

/** An SSL TLV value that breaks PROXY protocol v2 (section 2.2.5): it came from the peer. */
export class ProxyTlvError extends Error {
  override readonly name = 'ProxyTlvError';
}

/** Decodes the value of an SSL TLV (0x20). Throws ProxyTlvError when it is malformed. */
export function decodeSslTlv(value: Buffer): DecodedSslTlv {
  const result = parseSsl(value);
  if (typeof result === 'string') throw new ProxyTlvError(result);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Reading from a socket

export type ReadErrorCode =
  /** Nothing (or only part of a header) arrived within `timeoutMs`. */
  | 'timeout'
  /** The bytes start a PROXY header that breaks the spec, or exceed `maxBytes`. */
  | 'invalid'
  /** `required` and the first bytes are not a PROXY header. */
  | 'missing'
  /** The peer closed (or the socket was destroyed) before a decision. */
  | 'closed'
  | 'socket-error';

export type ReadResult =
  | { kind: 'header'; header: ProxyHeader; length: number }
  /** Only with `required: false`: no header; every byte read has been put back. */
  | { kind: 'none' }
  | { kind: 'error'; code: ReadErrorCode; reason: string };

export interface ReadProxyHeaderOptions {
  /** How long to wait for a complete header, from the call. The spec suggests at least 3 s. */
  timeoutMs: number;
  /** A missing header is an error (`missing`, or `timeout` if the peer sends nothing). */
  required: boolean;
  /** Largest v2 header accepted, fixed part included (default 65551, the format's maximum). */
  maxBytes?: number;
}

/** Grows by doubling so that a header fed one byte at a time costs linear copying. */
class ByteAccumulator {
  private buffer = Buffer.alloc(0);
  length = 0;

  push(chunk: Buffer): void {
    if (this.length + chunk.length > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.length + chunk.length, 128));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Reads a PROXY header from a new socket (before anyone else reads it) and settles with a result; it
 * never rejects for anything the peer does. On `header` the bytes after the header, and on `none` every
 * byte read, are put back with `socket.unshift`, and the socket is left with no listener of ours and not
 * flowing, so a later `socket.on('data')` (or pipe) sees the stream from the first byte after the header.
 * On `error` the bytes read are dropped and the socket left open: the caller decides (normally destroy).
 *
 * Bytes are taken from the socket as they arrive and parsed at once; reading stops as soon as the header
 * is decided, so at most the header plus the rest of the last chunk is held.
 *
 * `required: false` (a listener where clients may come without a load balancer): bytes that are not a
 * PROXY header (an SSH banner, say) give `none` at once; a peer that sends nothing within `timeoutMs`
 * also gives `none`. Since an FTP client waits for the server banner, such a client is delayed by
 * `timeoutMs`, so prefer `required: true` for trusted sources and no PROXY parsing for the others. A
 * started but unfinished header at the deadline is a `timeout` error either way.
 *
 * A socket with an encoding set (`setEncoding`) is refused with an `invalid` error.
 */
export async function readProxyHeader(socket: Socket, options: ReadProxyHeaderOptions): Promise<ReadResult> {
  const { timeoutMs, required } = options;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`readProxyHeader: timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const maxBytes = Math.min(options.maxBytes ?? V2_MAX_LENGTH, V2_MAX_LENGTH);
  if (!(maxBytes >= V2_FIXED_LENGTH)) {
    throw new RangeError(
      `readProxyHeader: maxBytes must be at least ${V2_FIXED_LENGTH}, got ${options.maxBytes}`,
    );
  }
  if (socket.destroyed || socket.readableEnded) {
    return { kind: 'error', code: 'closed', reason: 'connection already closed before the PROXY header' };
  }

  return new Promise<ReadResult>((resolve) => {
    const received = new ByteAccumulator();
    let settled = false;

    const settle = (result: ReadResult, putBack?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (putBack && putBack.length > 0 && !socket.destroyed) socket.unshift(putBack);
      // Removing the 'readable' listener makes Node reset the stream's flowing state on the next tick; the
      // caller runs after that, so a plain socket.on('data') then starts the flow.
      process.nextTick(resolve, result);
    };

    const evaluate = () => {
      const bytes = received.view();
      const result = parseProxyHeader(bytes, { maxV2Length: maxBytes });
      switch (result.kind) {
        case 'incomplete':
          return;
        case 'header':
          settle(
            { kind: 'header', header: result.header, length: result.length },
            Buffer.from(bytes.subarray(result.length)),
          );
          return;
        case 'none':
          if (required) {
            settle(
              {
                kind: 'error',
                code: 'missing',
                reason: 'PROXY header required but the connection does not start with one',
              },
              Buffer.from(bytes),
            );
          } else {
            settle({ kind: 'none' }, Buffer.from(bytes));
          }
          return;
        case 'invalid':
          settle({ kind: 'error', code: 'invalid', reason: result.reason });
          return;
      }
    };

    const onReadable = () => {
      while (!settled) {
        const chunk: unknown = socket.read();
        if (chunk === null) return;
        if (!Buffer.isBuffer(chunk)) {
          settle({
            kind: 'error',
            code: 'invalid',
            reason: 'socket has an encoding set; raw bytes are needed',
          });
          return;
        }
        received.push(chunk);
        evaluate();
      }
    };

    const closedReason = () =>
      received.length === 0
        ? 'connection closed before a PROXY header was sent'
        : `connection closed in the middle of a PROXY header (${received.length} byte(s) received)`;
    const onEnd = () => settle({ kind: 'error', code: 'closed', reason: closedReason() });
    const onClose = () => settle({ kind: 'error', code: 'closed', reason: closedReason() });
    const onError = (err: Error) =>
      settle({
        kind: 'error',
        code: 'socket-error',
        reason: `socket error before the PROXY header: ${err.message}`,
      });

    const timer = setTimeout(() => {
      if (received.length === 0 && !required) settle({ kind: 'none' });
      else if (received.length === 0) {
        settle({ kind: 'error', code: 'timeout', reason: `no PROXY header within ${timeoutMs} ms` });
      } else {
        settle({
          kind: 'error',
          code: 'timeout',
          reason: `incomplete PROXY header after ${timeoutMs} ms (${received.length} byte(s) received)`,
        });
      }
    }, timeoutMs);

    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
