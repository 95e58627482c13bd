import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lexConfig, splitWords } from '../../edge-worker/config/proftpd-conf/lexer.js';
import { DEFAULT_MLST_FACTS } from '../../edge-worker/ftp/dirlist/facts.js';
import { parseDosListLine, parseUnixListLine } from '../../edge-worker/ftp/dirlist/list-line.js';
import { createMlsdTransform } from '../../edge-worker/ftp/dirlist/mlsd-transform.js';
import { decodeSslTlv, ProxyTlvError, parseProxyHeader } from '../../edge-worker/proxy-protocol/decode.js';
import {
  alpnTlv,
  authorityTlv,
  encodeV1,
  encodeV2,
  sslTlv,
  uniqueIdTlv,
} from '../../edge-worker/proxy-protocol/encode.js';
import { SftpPacketAudit } from '../../edge-worker/sftp/sftp-packet-audit.js';
import { DnsMessageError, decodeResponse, encodeQuery } from '../../functions/core/discovery/dns-message.js';
import { DerError, decode as decodeDer } from '../../functions/core/ocsp/der.js';
import { FUZZ_PARAMETERS, hostileBytes, returnsOrThrowsTyped } from './fuzz-support.js';

const endpoints = {
  source: { address: '192.0.2.10', port: 40_000 },
  destination: { address: '127.0.0.1', port: 21 },
};

describe('PROXY protocol v1/v2 headers and TLVs (fuzzed)', () => {
  const samples = [
    encodeV1(endpoints),
    'PROXY TCP6 2001:db8::1 ::1 40000 21\r\n',
    'PROXY UNKNOWN\r\n',
    encodeV2(endpoints),
    encodeV2({
      ...endpoints,
      checksum: true,
      tlvs: [
        alpnTlv('ftp'),
        authorityTlv('ftp.example.test'),
        uniqueIdTlv('abc'),
        sslTlv({ verified: true, version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } as never),
      ],
    }),
  ];

  it('answers incomplete, header, none or invalid; never throws; a header never claims more bytes than given', () => {
    fc.assert(
      fc.property(hostileBytes(samples, 1024), (bytes) => {
        const result = parseProxyHeader(bytes);
        expect(['incomplete', 'header', 'none', 'invalid']).toContain(result.kind);
        if (result.kind === 'header') expect(result.length).toBeLessThanOrEqual(bytes.length);
      }),
      FUZZ_PARAMETERS,
    );
  });

  it('decodes any SSL TLV value or throws ProxyTlvError', () => {
    fc.assert(
      fc.property(
        hostileBytes([Buffer.from([1, 0, 0, 0, 0, 0x21, 0, 7, ...Buffer.from('TLSv1.3')])], 256),
        (bytes) => {
          returnsOrThrowsTyped(() => decodeSslTlv(bytes), ProxyTlvError);
        },
      ),
      FUZZ_PARAMETERS,
    );
  });
});

describe('LIST lines and their MLSD translation (fuzzed)', () => {
  const samples = [
    '-rw-r--r--   1 ftp      ftp          1234 Jan 01 12:00 file.txt',
    'drwxr-xr-x   2 0        0            4096 Mar  3  2024 dir',
    'lrwxrwxrwx   1 u g 4 Jan 01 12:00 link -> target',
    '01-02-24  10:00AM       <DIR>          dos dir',
    '01-02-24  10:00PM                 1234 dos.txt',
  ];
  const now = new Date('2026-06-01T00:00:00Z');

  it('parses any line to an entry or to nothing, never a throw', () => {
    fc.assert(
      fc.property(hostileBytes(samples, 512), (bytes) => {
        const line = bytes.toString('latin1');
        parseUnixListLine(line, now);
        parseDosListLine(line);
      }),
      FUZZ_PARAMETERS,
    );
  });

  it('turns any LIST stream into MLSD lines without failing the stream, one output line per kept input line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          hostileBytes(
            samples.map((s) => `${s}\r\n`),
            512,
          ),
          { maxLength: 8 },
        ),
        async (chunks) => {
          const transform = createMlsdTransform({
            facts: DEFAULT_MLST_FACTS,
            useSlink: false,
            now,
            maxLineLength: 1024,
          });
          const out: Buffer[] = [];
          const sink = new PassThrough();
          sink.on('data', (chunk: Buffer) => out.push(chunk));
          const done = new Promise<void>((resolve, reject) => {
            transform.once('error', reject);
            sink.once('end', resolve);
          });
          transform.pipe(sink);
          for (const chunk of chunks) transform.write(chunk);
          transform.end();
          await done;
          const text = Buffer.concat(out).toString('latin1');
          for (const line of text.split('\r\n').filter((l) => l !== '')) expect(line).toMatch(/; ./);
        },
      ),
      { ...FUZZ_PARAMETERS, numRuns: 150 },
    );
  });
});

describe('SFTP packet audit (fuzzed)', () => {
  const packet = (type: number, body: Buffer) => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(body.length + 1, 0);
    header[4] = type;
    return Buffer.concat([header, body]);
  };
  const path = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('a.txt')]);
  const open = packet(
    3,
    Buffer.concat([Buffer.from([0, 0, 0, 1]), path, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0])]),
  );
  const handle = packet(102, Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), Buffer.from('h')]));

  it('reads any byte stream from either side without throwing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            hostileBytes([open, handle, packet(4, Buffer.from([0, 0, 0, 2, 0, 0, 0, 1, 0x68]))], 512),
          ),
          {
            maxLength: 10,
          },
        ),
        (steps) => {
          let events = 0;
          const audit = new SftpPacketAudit(() => {
            events += 1;
          });
          for (const [fromClient, bytes] of steps) {
            if (fromClient) audit.fromClient(bytes);
            else audit.fromServer(bytes);
          }
          audit.finish();
          expect(events).toBeGreaterThanOrEqual(0);
        },
      ),
      FUZZ_PARAMETERS,
    );
  });
});

describe('DNS responses (fuzzed)', () => {
  const query = encodeQuery(7, 'ftp.example.test', 'A');
  const response = Buffer.from(query);
  response[2] = 0x81;
  response[3] = 0x80;
  response.writeUInt16BE(1, 6);
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);

  it('decodes a response or throws DnsMessageError', () => {
    fc.assert(
      fc.property(hostileBytes([Buffer.concat([response, answer]), response], 512), (bytes) => {
        returnsOrThrowsTyped(() => decodeResponse(bytes), DnsMessageError);
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('DER (OCSP responses, certificates) (fuzzed)', () => {
  const sample = Buffer.from('3010300e0201010403414243a0030101ff', 'hex');

  it('decodes a tree or throws DerError', () => {
    fc.assert(
      fc.property(hostileBytes([sample], 512), (bytes) => {
        returnsOrThrowsTyped(() => decodeDer(bytes), DerError);
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('proftpd.conf lexer (fuzzed)', () => {
  const samples = [
    'ServerName "x"\nPort 21\n<IfModule mod_proxy.c>\n  ProxyEngine on\n  ProxyReverseServers ftp://127.0.0.1:2121\n</IfModule>\n',
    '<Global>\nMaxClients 10 "Too many %m"\n</Global>\nSomething a\\\n b\n',
  ];

  it('collects problems, never throws, for any file text (no Include of a real file)', () => {
    fc.assert(
      fc.property(hostileBytes(samples, 2048), (bytes) => {
        const text = bytes.toString('latin1').replace(/Include/gi, 'Xnclude');
        const result = lexConfig('/nonexistent/fuzz/proftpd.conf', text);
        expect(Array.isArray(result.errors)).toBe(true);
        splitWords(text.split('\n')[0] ?? '');
      }),
      FUZZ_PARAMETERS,
    );
  });
});
