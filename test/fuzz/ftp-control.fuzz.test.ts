import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandParser } from '../../edge-worker/ftp/control/command-parser.js';
import { ReplyParseError, ReplyParser } from '../../edge-worker/ftp/control/reply-parser.js';
import {
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
} from '../../edge-worker/ftp/data/data-address.js';
import { FUZZ_PARAMETERS, hostileBytes, returnsOrThrowsTyped } from './fuzz-support.js';

const MAX_LINE = 512;

/** Splits bytes into the chunks a socket could deliver them in. */
const chunked = (bytes: fc.Arbitrary<Buffer>) =>
  fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 6 })).map(([data, cuts]) => {
    const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let start = 0;
    for (const point of points) {
      chunks.push(data.subarray(start, point));
      start = point;
    }
    chunks.push(data.subarray(start));
    return chunks;
  });

describe('FTP command lines (fuzzed)', () => {
  it('never throws, never yields a line over the limit, whatever the bytes and chunking', () => {
    const samples = [
      'USER anonymous\r\n',
      'PASS x\r\nRETR a b\r\n',
      '\xff\xf4\xff\xf2ABOR\r\n',
      `LIST ${'a'.repeat(600)}\r\n`,
    ];
    fc.assert(
      fc.property(chunked(hostileBytes(samples)), (chunks) => {
        const parser = new CommandParser(MAX_LINE);
        for (const chunk of chunks) {
          for (const event of parser.push(chunk)) {
            if (event.kind === 'command') {
              expect(event.command.verb.length + event.command.arg.length).toBeLessThanOrEqual(MAX_LINE);
            }
          }
        }
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('FTP replies (fuzzed)', () => {
  it('returns replies or throws ReplyParseError, and holds no more than its limits', () => {
    const samples = [
      '220 hi\r\n',
      '211-Features:\r\n MDTM\r\n UTF8\r\n211 End\r\n',
      '150-a\r\n150-b\r\n150 c\r\n226\r\n',
      '227 Entering Passive Mode (127,0,0,1,4,1)\r\n',
    ];
    fc.assert(
      fc.property(chunked(hostileBytes(samples, 8192)), (chunks) => {
        const parser = new ReplyParser({ maxLineBytes: 256, maxReplyBytes: 4096 });
        returnsOrThrowsTyped(() => {
          for (const chunk of chunks) {
            for (const reply of parser.push(chunk)) {
              expect(reply.code).toBeGreaterThanOrEqual(100);
              expect(reply.code).toBeLessThan(700);
              expect(reply.lines.join('\r\n').length).toBeLessThanOrEqual(4096 + 256);
            }
          }
        }, ReplyParseError);
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('PORT/EPRT/PASV/EPSV addresses (fuzzed)', () => {
  const argument = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(fc.integer({ min: -300, max: 70_000 }), { maxLength: 8 }).map((numbers) => numbers.join(',')),
    fc
      .tuple(
        fc.constantFrom('|', '!', '#'),
        fc.string({ maxLength: 3 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 6 }),
      )
      .map(([d, proto, host, port]) => `${d}${proto}${d}${host}${d}${port}${d}`),
  );

  it('PORT and EPRT arguments parse to a valid port or to a refusal, never a throw', () => {
    fc.assert(
      fc.property(argument, (arg) => {
        const port = parsePortArgument(arg);
        if (port) {
          expect(port.port).toBeGreaterThanOrEqual(0);
          expect(port.port).toBeLessThanOrEqual(65_535);
        }
        const eprt = parseEprtArgument(arg);
        expect(eprt).toBeDefined();
      }),
      FUZZ_PARAMETERS,
    );
  });

  it('227 and 229 replies parse to a valid port or to nothing, never a throw', () => {
    fc.assert(
      fc.property(argument, fc.constantFrom(227, 229), (text, code) => {
        const reply = { code, lines: [`${code} Entering Mode (${text})`] };
        for (const address of [parsePasvReply(reply), parseEpsvReply(reply)]) {
          if (address) {
            expect(address.port).toBeGreaterThanOrEqual(0);
            expect(address.port).toBeLessThanOrEqual(65_535);
          }
        }
      }),
      FUZZ_PARAMETERS,
    );
  });
});
