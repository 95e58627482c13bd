import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../edge-worker/proxy-protocol/crc32c.js';
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
  passThroughTlvs,
  sslTlv,
  tlv,
  uniqueIdTlv,
} from '../../../../edge-worker/proxy-protocol/encode.js';
import { formatIPv6, parseAddress, parseIPv4, parseIPv6 } from '../../../../functions/core/net/ip.js';

/** Hex with spaces/newlines allowed, for vectors written by hand from the spec. */
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const SIG = '0d0a0d0a 000d0a51 5549540a';

describe('encodeV1 (mod_proxy rules)', () => {
  it('writes TCP4 when both addresses are IPv4 (the spec example)', () => {
    const line = encodeV1({
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
    });
    expect(line.toString('latin1')).toBe('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
  });

  it('treats IPv4-mapped addresses as IPv4', () => {
    const line = encodeV1({
      source: { address: '::ffff:192.0.2.1', port: 50000 },
      destination: { address: '::FFFF:192.0.2.2', port: 21 },
    });
    expect(line.toString('latin1')).toBe('PROXY TCP4 192.0.2.1 192.0.2.2 50000 21\r\n');
  });

  it('writes TCP6 for IPv6 and for a mixed pair, IPv4 as ::ffff:a.b.c.d', () => {
    expect(
      encodeV1({
        source: { address: '2001:DB8:0:0:0:0:0:1', port: 1 },
        destination: { address: '2001:db8::21', port: 21 },
      }).toString('latin1'),
    ).toBe('PROXY TCP6 2001:db8::1 2001:db8::21 1 21\r\n');
    expect(
      encodeV1({
        source: { address: '192.0.2.1', port: 65535 },
        destination: { address: '2001:db8::21', port: 0 },
      }).toString('latin1'),
    ).toBe('PROXY TCP6 ::ffff:192.0.2.1 2001:db8::21 65535 0\r\n');
  });

  it('sends UNKNOWN when TCP6 would go to an IPv4 backend, TCP4 whatever the backend', () => {
    expect(
      encodeV1({
        source: { address: '2001:db8::1', port: 1 },
        destination: { address: '192.0.2.2', port: 21 },
        backendIsIPv4: true,
      }).toString('latin1'),
    ).toBe('PROXY UNKNOWN\r\n');
    expect(
      encodeV1({
        source: { address: '10.0.0.1', port: 1 },
        destination: { address: '10.0.0.2', port: 21 },
        backendIsIPv4: true,
      }).toString('latin1'),
    ).toBe('PROXY TCP4 10.0.0.1 10.0.0.2 1 21\r\n');
    expect(encodeV1Unknown().toString('latin1')).toBe('PROXY UNKNOWN\r\n');
  });

  it('drops an IPv6 zone id and rejects non-addresses and bad ports', () => {
    expect(
      encodeV1({
        source: { address: 'fe80::1%eth0', port: 1 },
        destination: { address: 'fe80::2', port: 2 },
      }).toString('latin1'),
    ).toBe('PROXY TCP6 fe80::1 fe80::2 1 2\r\n');
    const ok = { address: '10.0.0.1', port: 21 };
    expect(() => encodeV1({ source: { address: 'localhost', port: 1 }, destination: ok })).toThrow(
      'PROXY source address is not an IP address: "localhost"',
    );
    expect(() => encodeV1({ source: ok, destination: { address: '10.0.0.2', port: 65536 } })).toThrow(
      'PROXY destination port must be an integer 0-65535, got 65536',
    );
    expect(() => encodeV1({ source: { address: '10.0.0.1', port: 1.5 }, destination: ok })).toThrow(
      RangeError,
    );
  });
});

describe('encodeV2: byte vectors written from the spec', () => {
  it('127.0.0.1:12345 -> 127.0.0.1:21', () => {
    const header = encodeV2({
      source: { address: '127.0.0.1', port: 12345 },
      destination: { address: '127.0.0.1', port: 21 },
    });
    expect(header).toEqual(hex(`${SIG} 21 11 000c  7f000001 7f000001  3039 0015`));
  });

  it('TCP over IPv6', () => {
    const header = encodeV2({
      source: { address: '2001:db8::1', port: 40000 },
      destination: { address: '2001:db8::2', port: 990 },
    });
    expect(header).toEqual(
      hex(`${SIG} 21 21 0024
        20010db8 00000000 00000000 00000001
        20010db8 00000000 00000000 00000002
        9c40 03de`),
    );
  });

  it('a mixed pair goes as IPv6 with the IPv4 address mapped', () => {
    const header = encodeV2({
      source: { address: '192.0.2.10', port: 5000 },
      destination: { address: '2001:db8::21', port: 21 },
    });
    expect(header).toEqual(
      hex(`${SIG} 21 21 0024
        00000000 00000000 0000ffff c000020a
        20010db8 00000000 00000000 00000021
        1388 0015`),
    );
  });

  it('IPv4-mapped on both sides goes as IPv4', () => {
    const header = encodeV2({
      source: { address: '::ffff:10.1.2.3', port: 1 },
      destination: { address: '::ffff:10.1.2.4', port: 2 },
    });
    expect(header).toEqual(hex(`${SIG} 21 11 000c 0a010203 0a010204 0001 0002`));
  });

  it('LOCAL, with and without TLVs', () => {
    expect(encodeV2Local()).toEqual(hex(`${SIG} 20 00 0000`));
    expect(encodeV2Local({ tlvs: [alpnTlv('ftp')] })).toEqual(hex(`${SIG} 20 00 0006 01 0003 667470`));
  });

  it('TLVs follow the address block: type, 16-bit length, value', () => {
    const header = encodeV2({
      source: { address: '127.0.0.1', port: 12345 },
      destination: { address: '127.0.0.1', port: 21 },
      tlvs: [alpnTlv('ftp'), authorityTlv('ftp.example.com'), uniqueIdTlv(Buffer.from([0xab, 0xcd]))],
    });
    expect(header).toEqual(
      hex(`${SIG} 21 11 0029  7f000001 7f000001 3039 0015
        01 0003 667470
        02 000f 6674702e6578616d706c652e636f6d
        05 0002 abcd`),
    );
  });

  it('SSL TLV: client bits, verify, sub-TLVs 0x21..0x25 in order', () => {
    const value = sslTlv({
      tls: true,
      clientCertificate: true,
      version: 'TLSv1.3',
      commonName: 'alice',
      cipher: 'TLS_AES_128_GCM_SHA256',
      signatureAlgorithm: 'RSA-SHA256',
      keyAlgorithm: 'RSA2048',
    });
    expect(value.type).toBe(0x20);
    expect(value.value).toEqual(
      Buffer.concat([
        hex('03 00000000'),
        hex('21 0007'),
        Buffer.from('TLSv1.3'),
        hex('22 0005'),
        Buffer.from('alice'),
        hex('23 0016'),
        Buffer.from('TLS_AES_128_GCM_SHA256'),
        hex('24 000a'),
        Buffer.from('RSA-SHA256'),
        hex('25 0007'),
        Buffer.from('RSA2048'),
      ]),
    );
    // mod_proxy: verify is 1 without a client certificate.
    expect(sslTlv({ tls: true, version: 'TLSv1.2' }).value).toEqual(
      Buffer.concat([hex('01 00000001 21 0007'), Buffer.from('TLSv1.2')]),
    );
    expect(sslTlv({ tls: true, certificateInSession: true, verify: 7 }).value).toEqual(hex('05 00000007'));
  });

  it('AWS and Azure TLVs', () => {
    expect(awsVpceIdTlv('vpce-08d2bf15fac5001c9')).toEqual({
      type: 0xea,
      value: Buffer.concat([hex('01'), Buffer.from('vpce-08d2bf15fac5001c9')]),
    });
    expect(azureLinkIdTlv(0x01020304)).toEqual({ type: 0xee, value: hex('01 04030201') });
    expect(() => azureLinkIdTlv(2 ** 32)).toThrow(RangeError);
  });

  it('checksum: a CRC32C TLV last, computed over the header with the field zeroed', () => {
    const header = encodeV2({
      source: { address: '127.0.0.1', port: 12345 },
      destination: { address: '127.0.0.1', port: 21 },
      checksum: true,
    });
    expect(header.subarray(0, 16)).toEqual(hex(`${SIG} 21 11 0013`));
    expect(header.subarray(28, 31)).toEqual(hex('03 0004'));
    const zeroed = Buffer.from(header);
    zeroed.fill(0, 31, 35);
    expect(header.readUInt32BE(31)).toBe(crc32c(zeroed));
  });
});

describe('TLV builders and limits', () => {
  it('buildV2Tlvs keeps mod_proxy order and forwards only AWS/Azure from upstream', () => {
    const upstream = [alpnTlv('h2'), awsVpceIdTlv('vpce-1'), tlv(0xe1, 'x'), azureLinkIdTlv(7)];
    const tlvs = buildV2Tlvs({
      upstream,
      uniqueId: 'id-1',
      ssl: { tls: true },
      authority: 'ftp.example.com',
      alpn: 'ftps',
    });
    expect(tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x20, 0x05, 0xea, 0xee]);
    expect(buildV2Tlvs({ alpn: '', authority: '' })).toEqual([]);
    const passed = passThroughTlvs(upstream);
    expect(passed).toEqual([upstream[1], upstream[3]]);
    expect(passed[0]!.value).not.toBe(upstream[1]!.value); // copied
  });

  it('UNIQUE_ID is at most 128 bytes', () => {
    expect(uniqueIdTlv('x'.repeat(128)).value.length).toBe(128);
    expect(() => uniqueIdTlv('x'.repeat(129))).toThrow(
      'PROXY v2 UNIQUE_ID is 129 bytes (the spec allows 128)',
    );
  });

  it('a TLV value is at most 65535 bytes and the whole body must fit the 16-bit length', () => {
    expect(tlv(0xe0, Buffer.alloc(65535)).value.length).toBe(65535);
    expect(() => tlv(0xe0, Buffer.alloc(65536))).toThrow(
      'PROXY v2 TLV 0xe0 value is 65536 bytes (max 65535)',
    );
    expect(() => tlv(256, 'x')).toThrow(RangeError);
    const endpoints = {
      source: { address: '10.0.0.1', port: 1 },
      destination: { address: '10.0.0.2', port: 2 },
    };
    // 12 (addresses) + 3 + 65520 = 65535: fits exactly.
    expect(encodeV2({ ...endpoints, tlvs: [tlv(0xe0, Buffer.alloc(65520))] }).length).toBe(16 + 65535);
    expect(() => encodeV2({ ...endpoints, tlvs: [tlv(0xe0, Buffer.alloc(65521))] })).toThrow(
      'PROXY v2 header too long: 65536 bytes after the fixed part (the length field holds at most 65535)',
    );
    expect(() => encodeV2({ ...endpoints, tlvs: [{ type: 0xe0, value: Buffer.alloc(65536) }] })).toThrow(
      RangeError,
    );
  });
});

describe('helpers', () => {
  it('crc32c check values (RFC 3720 B.4 and the "123456789" check)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
  });

  it('strict IPv4 and IPv6 parsing', () => {
    expect(parseIPv4('0.0.0.0')).toEqual(new Uint8Array(4));
    for (const bad of ['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ']) {
      expect(parseIPv4(bad), bad).toBeUndefined();
    }
    expect(formatIPv6(parseIPv6('::')!)).toBe('::');
    expect(formatIPv6(parseIPv6('0:0:0:0:0:0:0:1')!)).toBe('::1');
    expect(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(parseIPv6('2001:0db8:0000:0001:0001:0001:0001:0001')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(parseIPv6('::ffff:1.2.3.4')!)).toBe('::ffff:1.2.3.4');
    expect(formatIPv6(parseIPv6('::FFFF:0102:0304')!)).toBe('::ffff:1.2.3.4');
    for (const bad of [
      '1::2::3',
      ':1::',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      '1.2.3.4::',
      '::1%lo',
      'g::',
    ]) {
      expect(parseIPv6(bad), bad).toBeUndefined();
    }
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toBeDefined();
    expect(parseIPv6('1:2:3:4:5:6:7::')).toBeDefined();
    expect(parseAddress('::ffff:10.0.0.1')).toEqual({ family: 4, bytes: new Uint8Array([10, 0, 0, 1]) });
    expect(parseAddress('fe80::1%eth0')?.family).toBe(6);
  });
});
