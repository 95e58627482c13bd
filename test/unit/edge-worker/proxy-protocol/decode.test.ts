import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../edge-worker/proxy-protocol/crc32c.js';
import {
  decodeSslTlv,
  type ParseResult,
  ProxyTlvError,
  parseProxyHeader,
} from '../../../../edge-worker/proxy-protocol/decode.js';
import {
  alpnTlv,
  authorityTlv,
  awsVpceIdTlv,
  azureLinkIdTlv,
  buildV2Tlvs,
  encodeV1,
  encodeV1Unknown,
  encodeV2,
  encodeV2Local,
  sslTlv,
  tlv,
  uniqueIdTlv,
} from '../../../../edge-worker/proxy-protocol/encode.js';
import type { ProxyHeader } from '../../../../edge-worker/proxy-protocol/types.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const SIG = '0d0a0d0a 000d0a51 5549540a';
const ascii = (text: string) => Buffer.from(text, 'latin1');

function header(buffer: Buffer): { header: ProxyHeader; length: number } {
  const result = parseProxyHeader(buffer);
  if (result.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return { header: result.header, length: result.length };
}

function reason(buffer: Buffer): string {
  const result = parseProxyHeader(buffer);
  if (result.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(result)}`);
  return result.reason;
}

/** Feeds `bytes` one byte at a time: every strict prefix is incomplete, the whole is `expected`. */
function feedByteByByte(bytes: Buffer): ParseResult {
  for (let n = 1; n < bytes.length; n++) {
    const partial = parseProxyHeader(bytes.subarray(0, n));
    if (partial.kind !== 'incomplete')
      throw new Error(`prefix of ${n} bytes gave ${JSON.stringify(partial)}`);
  }
  return parseProxyHeader(bytes);
}

const ALL_TLVS = buildV2Tlvs({
  alpn: 'ftps',
  authority: 'ftp.example.com',
  ssl: {
    tls: true,
    clientCertificate: true,
    version: 'TLSv1.3',
    commonName: 'alice',
    cipher: 'TLS_AES_256_GCM_SHA384',
    signatureAlgorithm: 'RSA-SHA256',
    keyAlgorithm: 'RSA2048',
  },
  uniqueId: Buffer.alloc(128, 0x5a),
  upstream: [awsVpceIdTlv('vpce-08d2bf15fac5001c9'), azureLinkIdTlv(0xdeadbeef)],
});

describe('v1 round trips', () => {
  it('TCP4', () => {
    const bytes = encodeV1({
      source: { address: '192.0.2.1', port: 50000 },
      destination: { address: '198.51.100.7', port: 21 },
    });
    expect(header(bytes)).toEqual({
      header: {
        version: 1,
        command: 'proxy',
        family: 'TCP4',
        source: { address: '192.0.2.1', port: 50000 },
        destination: { address: '198.51.100.7', port: 21 },
        tlvs: [],
      },
      length: bytes.length,
    });
  });

  it('TCP6, with a mapped IPv4 source normalised to the dotted form', () => {
    const bytes = encodeV1({
      source: { address: '192.0.2.1', port: 0 },
      destination: { address: '2001:db8::21', port: 65535 },
    });
    expect(bytes.toString('latin1')).toBe('PROXY TCP6 ::ffff:192.0.2.1 2001:db8::21 0 65535\r\n');
    expect(header(bytes).header).toEqual({
      version: 1,
      command: 'proxy',
      family: 'TCP6',
      source: { address: '192.0.2.1', port: 0 },
      destination: { address: '2001:db8::21', port: 65535 },
      tlvs: [],
    });
  });

  it('TCP6 addresses come back in RFC 5952 form', () => {
    const parsed = header(ascii('PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::1 1 2\r\n'));
    expect(parsed.header.source?.address).toBe('2001:db8::1');
    expect(parsed.header.destination?.address).toBe('::1');
  });

  it('UNKNOWN, short form and with ignored fields', () => {
    expect(header(encodeV1Unknown())).toEqual({
      header: { version: 1, command: 'proxy', family: 'UNKNOWN', tlvs: [] },
      length: 15,
    });
    const backend = encodeV1({
      source: { address: '2001:db8::1', port: 1 },
      destination: { address: '10.0.0.1', port: 2 },
      backendIsIPv4: true,
    });
    expect(header(backend).header.family).toBe('UNKNOWN');
    const long = ascii('PROXY UNKNOWN ffff:f::f whatever 65535 65535\r\n');
    expect(header(long)).toEqual({
      header: { version: 1, command: 'proxy', family: 'UNKNOWN', tlvs: [] },
      length: long.length,
    });
  });

  it('the longest possible TCP6 line (104 bytes) and UNKNOWN line (107 bytes) are accepted', () => {
    const full = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const tcp6 = ascii(`PROXY TCP6 ${full} ${full} 65535 65535\r\n`);
    expect(tcp6.length).toBe(104);
    expect(header(tcp6).length).toBe(104);
    const unknown = ascii(`PROXY UNKNOWN ${full} ${full} 65535 65535\r\n`);
    expect(unknown.length).toBe(107);
    expect(header(unknown).length).toBe(107);
  });

  it('reports the header length so the rest belongs to the session', () => {
    const bytes = Buffer.concat([ascii('PROXY TCP4 10.0.0.1 10.0.0.2 1234 21\r\n'), ascii('USER ftp\r\n')]);
    const parsed = header(bytes);
    expect(parsed.length).toBe(38);
    expect(bytes.subarray(parsed.length).toString()).toBe('USER ftp\r\n');
  });
});

describe('v2 round trips', () => {
  it('IPv4 with every TLV kind', () => {
    const bytes = encodeV2({
      source: { address: '127.0.0.1', port: 12345 },
      destination: { address: '127.0.0.1', port: 21 },
      tlvs: ALL_TLVS,
    });
    const parsed = header(bytes);
    expect(parsed.length).toBe(bytes.length);
    expect(parsed.header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'TCP4',
      source: { address: '127.0.0.1', port: 12345 },
      destination: { address: '127.0.0.1', port: 21 },
      tlvs: ALL_TLVS,
    });
    expect(parsed.header.tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x20, 0x05, 0xea, 0xee]);
    expect(decodeSslTlv(parsed.header.tlvs[2]!.value)).toEqual({
      client: 0x03,
      verify: 0,
      tls: true,
      clientCertificate: true,
      certificateInSession: false,
      version: 'TLSv1.3',
      commonName: 'alice',
      cipher: 'TLS_AES_256_GCM_SHA384',
      signatureAlgorithm: 'RSA-SHA256',
      keyAlgorithm: 'RSA2048',
      subTlvs: [
        { type: 0x21, value: ascii('TLSv1.3') },
        { type: 0x22, value: ascii('alice') },
        { type: 0x23, value: ascii('TLS_AES_256_GCM_SHA384') },
        { type: 0x24, value: ascii('RSA-SHA256') },
        { type: 0x25, value: ascii('RSA2048') },
      ],
    });
  });

  it('IPv6 with a checksum', () => {
    const bytes = encodeV2({
      source: { address: '2001:db8::1', port: 40000 },
      destination: { address: '2001:db8::2', port: 990 },
      tlvs: [alpnTlv('ftp')],
      checksum: true,
    });
    const parsed = header(bytes);
    expect(parsed.header).toMatchObject({
      version: 2,
      command: 'proxy',
      family: 'TCP6',
      source: { address: '2001:db8::1', port: 40000 },
      destination: { address: '2001:db8::2', port: 990 },
    });
    expect(parsed.header.tlvs.map((t) => t.type)).toEqual([0x01, 0x03]);
  });

  it('mixed pair: mapped IPv4 source normalised to the dotted form', () => {
    const parsed = header(
      encodeV2({
        source: { address: '192.0.2.10', port: 5000 },
        destination: { address: '2001:db8::21', port: 21 },
        tlvs: ALL_TLVS,
      }),
    );
    expect(parsed.header).toMatchObject({
      family: 'TCP6',
      source: { address: '192.0.2.10', port: 5000 },
      destination: { address: '2001:db8::21', port: 21 },
      tlvs: ALL_TLVS,
    });
  });

  it('LOCAL: addresses never reported, TLVs kept', () => {
    expect(header(encodeV2Local())).toEqual({
      header: { version: 2, command: 'local', family: 'UNKNOWN', tlvs: [] },
      length: 16,
    });
    expect(header(encodeV2Local({ tlvs: ALL_TLVS, checksum: true })).header.tlvs.slice(0, -1)).toEqual(
      ALL_TLVS,
    );
    // LOCAL with an address block: the block is skipped, not reported (the spec: use the real endpoints).
    const local = hex(`${SIG} 20 11 0011 0a000001 0a000002 0001 0002 04 0002 0000`);
    expect(header(local)).toEqual({
      header: { version: 2, command: 'local', family: 'UNKNOWN', tlvs: [{ type: 0x04, value: hex('0000') }] },
      length: local.length,
    });
  });

  it('hand-written vector: 127.0.0.1:12345 -> 127.0.0.1:21 followed by FTP bytes', () => {
    const bytes = Buffer.concat([hex(`${SIG} 21 11 000c 7f000001 7f000001 3039 0015`), ascii('USER x\r\n')]);
    expect(parseProxyHeader(bytes)).toEqual({
      kind: 'header',
      header: {
        version: 2,
        command: 'proxy',
        family: 'TCP4',
        source: { address: '127.0.0.1', port: 12345 },
        destination: { address: '127.0.0.1', port: 21 },
        tlvs: [],
      },
      length: 28,
    });
  });

  it('AF_UNSPEC, UNSPEC protocol and AF_UNIX under PROXY give family UNKNOWN without addresses', () => {
    expect(header(hex(`${SIG} 21 00 0000`)).header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'UNKNOWN',
      tlvs: [],
    });
    // Unknown address data in an unspecified block is ignored rather than parsed as TLVs.
    expect(header(hex(`${SIG} 21 10 0004 0a000001`)).header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'UNKNOWN',
      tlvs: [],
    });
    const unix = Buffer.concat([hex(`${SIG} 21 31 00db`), Buffer.alloc(216), hex('01 0000')]);
    expect(header(unix).header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'UNKNOWN',
      tlvs: [{ type: 0x01, value: Buffer.alloc(0) }],
    });
  });

  it('unknown TLVs are kept raw', () => {
    const parsed = header(
      encodeV2({
        source: { address: '10.0.0.1', port: 1 },
        destination: { address: '10.0.0.2', port: 2 },
        tlvs: [tlv(0xf0, hex('00ff')), tlv(0x30, 'netns-a'), tlv(0x04, Buffer.alloc(0))],
      }),
    );
    expect(parsed.header.tlvs).toEqual([
      { type: 0xf0, value: hex('00ff') },
      { type: 0x30, value: ascii('netns-a') },
      { type: 0x04, value: Buffer.alloc(0) },
    ]);
  });
});

describe('none: not a PROXY header', () => {
  it.each([
    ['FTP command', 'USER anonymous\r\n'],
    ['PASS starts with P', 'PASS x\r\n'],
    ['PROT diverges at byte 3', 'PROT P\r\n'],
    ['SSH banner', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['lowercase proxy', 'proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n'],
    ['blank lines', '\r\n\r\nUSER x\r\n'],
  ])('%s', (_name, text) => {
    expect(parseProxyHeader(ascii(text))).toEqual({ kind: 'none' });
  });

  it('TLS ClientHello and the first v2 signature bytes off', () => {
    expect(parseProxyHeader(hex('16030100'))).toEqual({ kind: 'none' });
    expect(parseProxyHeader(hex('0d0a0d0a01'))).toEqual({ kind: 'none' });
  });
});

describe('invalid: precise reasons', () => {
  it('bad v2 signature after the first 5 bytes', () => {
    expect(reason(hex('0d0a0d0a 000d0a51 5549550a 21 11 000c'))).toBe(
      'PROXY v2: bad signature (byte 10 is 0x55, expected 0x54)',
    );
    // Decided as soon as the wrong byte arrives.
    expect(reason(hex('0d0a0d0a 0000'))).toBe('PROXY v2: bad signature (byte 5 is 0x00, expected 0x0d)');
  });

  it('v2 version, command, family, protocol', () => {
    expect(reason(hex(`${SIG} 11 11 000c`))).toBe('PROXY v2: unsupported version 1 (ver/cmd byte 0x11)');
    expect(reason(hex(`${SIG} 22`))).toBe('PROXY v2: unknown command 0x2 (expected LOCAL 0x0 or PROXY 0x1)');
    expect(reason(hex(`${SIG} 21 41`))).toBe('PROXY v2: unknown address family 0x4 (family byte 0x41)');
    expect(reason(hex(`${SIG} 21 13`))).toBe('PROXY v2: unknown transport protocol 0x3 (family byte 0x13)');
    expect(reason(hex(`${SIG} 21 12 000c`))).toBe(
      'PROXY v2: transport protocol DGRAM (family byte 0x12) is not supported on a stream listener',
    );
    // DGRAM is ignored with LOCAL, like every address field.
    expect(header(hex(`${SIG} 20 12 000c 0a000001 0a000002 0001 0002`)).header.command).toBe('local');
  });

  it('v2 length: shorter than the address block, over the limit', () => {
    expect(reason(hex(`${SIG} 21 11 0008 0a000001 0a000002`))).toBe(
      'PROXY v2: length 8 is shorter than the 12-byte AF_INET address block',
    );
    expect(reason(hex(`${SIG} 21 21 000c`))).toBe(
      'PROXY v2: length 12 is shorter than the 36-byte AF_INET6 address block',
    );
    expect(parseProxyHeader(hex(`${SIG} 21 11 ffff`))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(hex(`${SIG} 21 11 0400`), { maxV2Length: 512 })).toEqual({
      kind: 'invalid',
      reason: 'PROXY v2: header of 1040 bytes exceeds the 512-byte limit',
    });
  });

  it('truncated TLVs', () => {
    const base = `${SIG} 21 11 LLLL 0a000001 0a000002 0001 0002`;
    expect(reason(hex(`${base.replace('LLLL', '000e')} 01 00`))).toBe(
      'PROXY v2: truncated TLV header at offset 28 (2 byte(s) left)',
    );
    expect(reason(hex(`${base.replace('LLLL', '0011')} 02 0005 6162`))).toBe(
      'PROXY v2: TLV 0x02 at offset 28 declares 5 bytes but only 2 remain',
    );
    // A TLV running past the declared length, even if more bytes follow on the wire.
    expect(reason(hex(`${base.replace('LLLL', '0010')} 01 0003 6674 70`))).toBe(
      'PROXY v2: TLV 0x01 at offset 28 declares 3 bytes but only 1 remain',
    );
  });

  it('bad CRC32C, bad CRC TLV size, duplicate CRC', () => {
    const good = encodeV2({
      source: { address: '10.0.0.1', port: 1 },
      destination: { address: '10.0.0.2', port: 2 },
      tlvs: [alpnTlv('ftp')],
      checksum: true,
    });
    expect(parseProxyHeader(good).kind).toBe('header');
    const stored = good.readUInt32BE(good.length - 4);
    const badCrc = Buffer.from(good);
    badCrc.writeUInt32BE((stored ^ 1) >>> 0, good.length - 4);
    expect(reason(badCrc)).toBe(
      `PROXY v2: CRC32C mismatch (header says 0x${((stored ^ 1) >>> 0).toString(16).padStart(8, '0')}, computed 0x${stored.toString(16).padStart(8, '0')})`,
    );
    const tampered = Buffer.from(good);
    tampered[16] = 11; // source 11.0.0.1 instead of 10.0.0.1
    expect(reason(tampered)).toMatch(/^PROXY v2: CRC32C mismatch/);

    expect(reason(hex(`${SIG} 20 00 0005 03 0002 0000`))).toBe('PROXY v2: CRC32C TLV must be 4 bytes, got 2');
    const twice = hex(`${SIG} 20 00 000e 03 0004 00000000 03 0004 00000000`);
    expect(reason(twice)).toBe('PROXY v2: more than one CRC32C TLV');
  });

  it('a CRC32C computed by hand over a LOCAL header', () => {
    const zeroed = hex(`${SIG} 20 00 0007 03 0004 00000000`);
    const withCrc = Buffer.from(zeroed);
    withCrc.writeUInt32BE(crc32c(zeroed), 19);
    expect(header(withCrc).header.tlvs).toEqual([{ type: 0x03, value: withCrc.subarray(19) }]);
  });

  it('UNIQUE_ID over 128 bytes, malformed SSL TLV', () => {
    const endpoints = {
      source: { address: '10.0.0.1', port: 1 },
      destination: { address: '10.0.0.2', port: 2 },
    };
    expect(reason(encodeV2({ ...endpoints, tlvs: [tlv(0x05, Buffer.alloc(129))] }))).toBe(
      'PROXY v2: UNIQUE_ID TLV is 129 bytes (at most 128)',
    );
    expect(reason(encodeV2({ ...endpoints, tlvs: [tlv(0x20, hex('01 0000'))] }))).toBe(
      'PROXY v2: SSL TLV needs at least 5 bytes (client, verify), got 3',
    );
    expect(reason(encodeV2({ ...endpoints, tlvs: [tlv(0x20, hex('01 00000000 21 0009 544c53'))] }))).toBe(
      'PROXY v2 SSL TLV: TLV 0x21 at offset 5 declares 9 bytes but only 3 remain',
    );
    expect(() => decodeSslTlv(hex('01'))).toThrow(ProxyTlvError);
    expect(decodeSslTlv(sslTlv({ tls: false }).value)).toMatchObject({ client: 0, verify: 1, tls: false });
    expect(uniqueIdTlv('ok').value.length).toBe(2);
    expect(authorityTlv('é').value).toEqual(hex('c3a9'));
  });

  it('v1: too long without CRLF', () => {
    const line = `PROXY UNKNOWN ${'x'.repeat(93)}`;
    expect(line.length).toBe(107);
    expect(parseProxyHeader(ascii(line.slice(0, 106)))).toEqual({ kind: 'incomplete' });
    expect(reason(ascii(line))).toBe('PROXY v1: no CRLF within the first 107 bytes');
    // CRLF ending at byte 108 is one too many.
    expect(reason(ascii(`${line.slice(0, 106)}x\r\n`))).toBe('PROXY v1: no CRLF within the first 107 bytes');
    expect(reason(ascii(`${line.slice(0, 106)}\r\n`))).toBe('PROXY v1: no CRLF within the first 107 bytes');
    expect(parseProxyHeader(ascii(`${line.slice(0, 105)}\r\n`)).kind).toBe('header');
  });

  it('v1: bare CR or LF', () => {
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'))).toBe(
      'PROXY v1: line feed without a preceding carriage return',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'))).toBe(
      'PROXY v1: carriage return not followed by line feed',
    );
    expect(parseProxyHeader(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r'))).toEqual({ kind: 'incomplete' });
  });

  it('v1: bad addresses', () => {
    expect(reason(ascii('PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'))).toBe(
      'PROXY v1: bad source address "1.2.3.256" for TCP4',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 05.6.7.8 1 2\r\n'))).toBe(
      'PROXY v1: bad destination address "05.6.7.8" for TCP4',
    );
    expect(reason(ascii('PROXY TCP4 ::1 ::1 1 2\r\n'))).toBe('PROXY v1: bad source address "::1" for TCP4');
    expect(reason(ascii('PROXY TCP6 1.2.3.4 ::1 1 2\r\n'))).toBe(
      'PROXY v1: bad source address "1.2.3.4" for TCP6',
    );
    expect(reason(ascii('PROXY TCP6 ::1 1::2::3 1 2\r\n'))).toBe(
      'PROXY v1: bad destination address "1::2::3" for TCP6',
    );
    expect(reason(ascii('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'))).toBe(
      'PROXY v1: bad source address "fe80::1%eth0" for TCP6',
    );
  });

  it('v1: ports', () => {
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 65536 21\r\n'))).toBe(
      'PROXY v1: bad source port "65536" (out of range 0-65535)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1024 021\r\n'))).toBe(
      'PROXY v1: bad destination port "021" (leading zeros are not allowed)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 00 21\r\n'))).toBe(
      'PROXY v1: bad source port "00" (leading zeros are not allowed)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 -1 21\r\n'))).toBe(
      'PROXY v1: bad source port "-1" (not a decimal number)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 123456 21\r\n'))).toBe(
      'PROXY v1: bad source port "123456" (not a decimal number)',
    );
    expect(header(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n')).header.source?.port).toBe(0);
  });

  it('v1: wrong protocol, spacing, field count', () => {
    expect(reason(ascii('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'))).toBe(
      'PROXY v1: unsupported protocol "UDP4" (expected TCP4, TCP6 or UNKNOWN)',
    );
    expect(reason(ascii('PROXY TCP5'))).toBe(
      'PROXY v1: unsupported protocol "TCP5" (expected TCP4, TCP6 or UNKNOWN)',
    );
    expect(reason(ascii('PROXY UNKNOWNX\r\n'))).toBe(
      'PROXY v1: unsupported protocol "UNKNOWNX" (expected TCP4, TCP6 or UNKNOWN)',
    );
    expect(reason(ascii('PROXY\tTCP4'))).toBe('PROXY v1: expected a single space after "PROXY"');
    expect(reason(ascii('PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n'))).toBe(
      'PROXY v1: unsupported protocol "" (expected TCP4, TCP6 or UNKNOWN)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'))).toBe(
      'PROXY v1: too many fields after TCP4 (fields are separated by exactly one space)',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'))).toBe(
      'PROXY v1: expected "TCP4 <source address> <destination address> <source port> <destination port>", got 3 field(s) after TCP4',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'))).toBe(
      'PROXY v1: too many fields after TCP4 (fields are separated by exactly one space)',
    );
    expect(reason(ascii('PROXY TCP4\r\n'))).toMatch(/got 0 field\(s\) after TCP4$/);
  });

  it('v1: rejected as soon as a field can no longer be valid, before the CRLF', () => {
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.999 '))).toBe(
      'PROXY v1: bad destination address "5.6.7.999" for TCP4',
    );
    expect(reason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 12a'))).toBe('PROXY v1: bad source port "12a" for TCP4');
    expect(reason(ascii('PROXY TCP6 ::g'))).toBe('PROXY v1: bad source address "::g" for TCP6');
    expect(parseProxyHeader(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 123'))).toEqual({ kind: 'incomplete' });
  });
});

describe('incremental feeding, byte by byte', () => {
  const endpoints4 = {
    source: { address: '203.0.113.9', port: 61000 },
    destination: { address: '10.0.0.5', port: 21 },
  };
  const endpoints6 = {
    source: { address: '2001:db8::9', port: 61000 },
    destination: { address: '2001:db8::5', port: 22 },
  };
  const cases: [string, Buffer][] = [
    ['v1 TCP4', encodeV1(endpoints4)],
    ['v1 TCP6', encodeV1(endpoints6)],
    ['v1 UNKNOWN', encodeV1Unknown()],
    ['v2 IPv4 + all TLVs + CRC', encodeV2({ ...endpoints4, tlvs: ALL_TLVS, checksum: true })],
    ['v2 IPv6', encodeV2(endpoints6)],
    [
      'v2 mixed',
      encodeV2({ source: endpoints4.source, destination: endpoints6.destination, tlvs: ALL_TLVS }),
    ],
    ['v2 LOCAL', encodeV2Local({ tlvs: [alpnTlv('ftp')] })],
  ];

  it.each(cases)('%s', (_name, bytes) => {
    const whole = parseProxyHeader(bytes);
    expect(whole.kind).toBe('header');
    expect(feedByteByByte(bytes)).toEqual(whole);
    // Trailing session bytes do not change the result.
    expect(parseProxyHeader(Buffer.concat([bytes, ascii('SSH-2.0-x\r\n')]))).toEqual(whole);
  });

  it('invalid input is caught at the first bad byte', () => {
    const bytes = ascii('PROXY TCP4 1.2.3.4 5.6.7.8 70000 21\r\n');
    const firstInvalid = Array.from({ length: bytes.length }, (_, i) => i + 1).find(
      (n) => parseProxyHeader(bytes.subarray(0, n)).kind === 'invalid',
    );
    expect(bytes.subarray(0, firstInvalid).toString()).toBe('PROXY TCP4 1.2.3.4 5.6.7.8 70000 ');
  });
});
