import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseDnsServer } from '../../../../../functions/core/discovery/dns-client.js';
import {
  DnsMessageError,
  decodeResponse,
  encodeQuery,
} from '../../../../../functions/core/discovery/dns-message.js';
import { seededRandom } from '../../../../../functions/core/random.js';

describe('DNS wire format', () => {
  it('encodes a query dns-packet reads back', () => {
    const query = dnsPacket.decode(encodeQuery(4242, '_ftp._tcp.example.com.', 'SRV'));
    expect(query.id).toBe(4242);
    expect(query.flag_rd).toBe(true);
    expect(query.questions).toEqual([{ name: '_ftp._tcp.example.com', type: 'SRV', class: 'IN' }]);
  });

  it('decodes SRV, TXT, A and AAAA answers with their TTLs, skipping other types', () => {
    const message = dnsPacket.encode({
      type: 'response',
      id: 7,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ type: 'SRV', name: 'x.test' }],
      answers: [
        {
          type: 'SRV',
          name: 'x.test',
          ttl: 30,
          data: { priority: 1, weight: 2, port: 2121, target: 'a.test' },
        },
        { type: 'TXT', name: 'x.test', ttl: 40, data: ['ftp://a.test', ':21'] },
        { type: 'A', name: 'a.test', ttl: 50, data: '10.1.2.3' },
        { type: 'AAAA', name: 'a.test', ttl: 60, data: '2001:db8::1' },
        { type: 'MX', name: 'x.test', ttl: 70, data: { preference: 1, exchange: 'm.test' } },
      ],
    });
    const response = decodeResponse(message);
    expect(response).toMatchObject({ id: 7, rcode: 0, truncated: false });
    expect(response.answers).toEqual([
      { type: 'SRV', name: 'x.test', ttl: 30, priority: 1, weight: 2, port: 2121, target: 'a.test' },
      { type: 'TXT', name: 'x.test', ttl: 40, text: 'ftp://a.test:21' },
      { type: 'A', name: 'a.test', ttl: 50, address: '10.1.2.3' },
      { type: 'AAAA', name: 'a.test', ttl: 60, address: '2001:db8::1' },
    ]);
  });

  it('follows compression pointers and reports NXDOMAIN and truncation', () => {
    // Hand-built: the answer's name points back at the question's (offset 12).
    const query = encodeQuery(1, 'a.test', 'A');
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8000 | 0x0200 | 3, 2);
    header.writeUInt16BE(1, 6);
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 127, 0, 0, 1]);
    const response = decodeResponse(Buffer.concat([header, query.subarray(12), answer]));
    expect(response).toMatchObject({ rcode: 3, truncated: true });
    expect(response.answers).toEqual([{ type: 'A', name: 'a.test', ttl: 9, address: '127.0.0.1' }]);
  });

  it('refuses garbage with a DnsMessageError', () => {
    expect(() => decodeResponse(Buffer.from([1, 2, 3]))).toThrow('response shorter than a DNS header');
    const loop = Buffer.alloc(14);
    loop.writeUInt16BE(0x8000, 2);
    loop.writeUInt16BE(1, 4);
    loop.writeUInt16BE(0xc00c, 12);
    // A pointer to itself: dns-packet refuses pointers that do not point back.
    expect(() => decodeResponse(loop)).toThrow(DnsMessageError);
    expect(() => decodeResponse(loop)).toThrow(/malformed DNS response: .*pointer/);
  });

  it('parses --dns-server values', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ ok: true, server: { host: '127.0.0.1', port: 5353 } });
    expect(parseDnsServer('10.0.0.2')).toEqual({ ok: true, server: { host: '10.0.0.2', port: 53 } });
    expect(parseDnsServer('[::1]:53')).toEqual({ ok: true, server: { host: '::1', port: 53 } });
    expect(parseDnsServer('::1')).toEqual({ ok: true, server: { host: '::1', port: 53 } });
    expect(parseDnsServer('dns.example:53')).toEqual({
      ok: false,
      error: '"dns.example:53": "dns.example" is not an IP address (a DNS server is given by address)',
    });
    expect(parseDnsServer('1.2.3.4:99999')).toMatchObject({ ok: false });
  });
});

describe('DNS answers that do not parse', () => {
  it('end in a DnsMessageError whatever the bytes (bounded random input, seeded)', () => {
    const random = seededRandom(20);
    const valid = dnsPacket.encode({
      type: 'response',
      id: 9,
      questions: [{ type: 'SRV', name: '_ftp._tcp.x.test' }],
      answers: [
        {
          type: 'SRV',
          name: '_ftp._tcp.x.test',
          ttl: 5,
          data: { priority: 1, weight: 1, port: 21, target: 'a.x.test' },
        },
        { type: 'TXT', name: 'x.test', ttl: 5, data: 'ftp://a.test' },
        { type: 'A', name: 'a.x.test', ttl: 5, data: '10.0.0.1' },
      ],
    });
    let refused = 0;
    for (let round = 0; round < 2000; round++) {
      const message = Buffer.from(valid);
      // Flip a few bytes after the header, or cut the message short.
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
        message[12 + Math.floor(random() * (message.length - 12))] = Math.floor(random() * 256);
      }
      const cut =
        random() < 0.3 ? message.subarray(0, 12 + Math.floor(random() * (message.length - 12))) : message;
      try {
        decodeResponse(cut);
      } catch (err) {
        expect(err).toBeInstanceOf(DnsMessageError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses a response whose A record is cut short', () => {
    const message = dnsPacket.encode({
      type: 'response',
      id: 3,
      answers: [{ type: 'A', name: 'a.test', ttl: 5, data: '10.0.0.1' }],
    });
    expect(() => decodeResponse(message.subarray(0, message.length - 2))).toThrow(DnsMessageError);
  });
});
