/**
 * A small DER (X.690 Distinguished Encoding Rules) reader: the parts of a certificate OCSP stapling
 * needs (ocsp/certificate-fields.ts) and OpenSSL's serialised TLS sessions (edge-worker/tls). Only definite
 * lengths (DER has no others) and single-byte tags. OCSP messages themselves are encoded and decoded
 * by @peculiar/asn1-ocsp (ocsp/ocsp-message.ts). Kept for certificates because the CertID hashes the
 * issuer Name exactly as encoded, and @peculiar/asn1-x509 gives a Name only as parsed (re-encoding it
 * can change the bytes of a certificate that is not strict DER); the writer below is for tests.
 * A single-file module, so that the edge worker's TLS session code reads DER without loading the
 * OCSP module's ASN.1 schemas.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** Universal tags used here. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** A context-specific tag `[n]`, constructed (EXPLICIT, or IMPLICIT over a constructed type) or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  if (n < 0 || n > 30) throw new DerError(`context tag [${n}] out of range`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** One decoded element: its tag byte, its content, and the whole encoding (tag, length, content). */
export interface DerNode {
  tag: number;
  /** The content octets (a view into the input). */
  content: Buffer;
  /** Tag, length and content: what a signature or hash is computed over. */
  raw: Buffer;
}

/** Reads one element at `offset`; returns it and where the next one starts. */
export function readElement(input: Buffer, offset = 0): { node: DerNode; next: number } {
  if (offset >= input.length) throw new DerError('unexpected end of input (expected a tag)');
  const tag = input[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tags are not supported (at ${offset})`);
  let pos = offset + 1;
  if (pos >= input.length) throw new DerError('unexpected end of input (expected a length)');
  const first = input[pos] as number;
  pos += 1;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw new DerError('indefinite length is not DER');
  } else {
    const bytes = first & 0x7f;
    if (bytes > 4) throw new DerError(`length of ${bytes} bytes is too large`);
    if (pos + bytes > input.length) throw new DerError('unexpected end of input (in a length)');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (input[pos + i] as number);
    pos += bytes;
    if (length < 0x80 || (bytes > 1 && input[pos - bytes] === 0)) {
      throw new DerError('length not in its shortest form (not DER)');
    }
  }
  const end = pos + length;
  if (end > input.length) throw new DerError(`element of ${length} bytes runs past the end of the input`);
  return {
    node: { tag, content: input.subarray(pos, end), raw: input.subarray(offset, end) },
    next: end,
  };
}

/** Decodes exactly one element spanning the whole input. */
export function decode(input: Buffer): DerNode {
  const { node, next } = readElement(input, 0);
  if (next !== input.length) throw new DerError(`${input.length - next} trailing bytes after the element`);
  return node;
}

/** The elements inside a constructed element (SEQUENCE, SET, EXPLICIT tag). */
export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const { node: child, next } = readElement(node.content, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

/** The node, after checking its tag. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`${what}: missing`);
  if (node.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  }
  return node;
}

/** The single element an EXPLICIT tag wraps. */
export function unwrapExplicit(node: DerNode): DerNode {
  const inner = children(node);
  if (inner.length !== 1) throw new DerError(`explicit tag holds ${inner.length} elements, expected 1`);
  return inner[0] as DerNode;
}

export function readOid(node: DerNode): string {
  expectTag(node, TAG.OID, 'OBJECT IDENTIFIER');
  const bytes = node.content;
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (value === 0 && byte === 0x80) throw new DerError('OBJECT IDENTIFIER arc with a leading zero');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OBJECT IDENTIFIER arc too large');
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('OBJECT IDENTIFIER ends inside an arc');
    }
  }
  return arcs.join('.');
}

/** An INTEGER or ENUMERATED small enough for a number (status codes, versions). */
export function readSmallInteger(node: DerNode): number {
  if (node.tag !== TAG.INTEGER && node.tag !== TAG.ENUMERATED) {
    throw new DerError(`expected INTEGER or ENUMERATED, got tag 0x${node.tag.toString(16)}`);
  }
  if (node.content.length === 0 || node.content.length > 6) throw new DerError('integer of unsupported size');
  return node.content.readIntBE(0, node.content.length);
}

/** GeneralizedTime (YYYYMMDDHHMMSS[.fff]Z) or UTCTime (YYMMDDHHMMSSZ) as epoch milliseconds. */
export function readTime(node: DerNode): number {
  const text = node.content.toString('latin1');
  if (node.tag === TAG.GENERALIZED_TIME) {
    const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?Z$/.exec(text);
    if (!match) throw new DerError(`malformed GeneralizedTime "${text}"`);
    const [, y, mo, d, h, mi, s, frac] = match;
    return Date.UTC(
      +(y as string),
      +(mo as string) - 1,
      +(d as string),
      +(h as string),
      +(mi as string),
      +(s as string),
      frac ? Number(frac.padEnd(3, '0')) : 0,
    );
  }
  if (node.tag === TAG.UTC_TIME) {
    const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError(`malformed UTCTime "${text}"`);
    const [, yy, mo, d, h, mi, s] = match;
    const year = +(yy as string) >= 50 ? 1900 + +(yy as string) : 2000 + +(yy as string);
    return Date.UTC(
      year,
      +(mo as string) - 1,
      +(d as string),
      +(h as string),
      +(mi as string),
      +(s as string),
    );
  }
  throw new DerError(`expected a time, got tag 0x${node.tag.toString(16)}`);
}

/** The bits of a BIT STRING with no unused bits (keys, signatures). */
export function readBitStringBytes(node: DerNode): Buffer {
  expectTag(node, TAG.BIT_STRING, 'BIT STRING');
  if (node.content.length === 0) throw new DerError('empty BIT STRING');
  if (node.content[0] !== 0) throw new DerError('BIT STRING with unused bits where whole bytes are expected');
  return node.content.subarray(1);
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element from its tag and content. */
export function encode(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export const sequence = (...items: Buffer[]): Buffer => encode(TAG.SEQUENCE, Buffer.concat(items));
export const octetString = (bytes: Buffer): Buffer => encode(TAG.OCTET_STRING, bytes);
export const nullValue = (): Buffer => encode(TAG.NULL, Buffer.alloc(0));
export const explicit = (n: number, inner: Buffer): Buffer => encode(contextTag(n, true), inner);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new DerError(`bad OBJECT IDENTIFIER "${dotted}"`);
    return Number(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2 || (first < 2 && second > 39)) {
    throw new DerError(`bad OBJECT IDENTIFIER "${dotted}"`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const group: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      group.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...group);
  }
  return encode(TAG.OID, Buffer.from(bytes));
}

/** An INTEGER from its unsigned big-endian magnitude (e.g. a certificate serial number). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  let bytes = magnitude.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (((bytes[0] as number) & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return encode(TAG.INTEGER, bytes);
}

export function enumerated(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 127)
    throw new DerError(`ENUMERATED ${value} out of range`);
  return encode(TAG.ENUMERATED, Buffer.from([value]));
}
