import { describe, expect, it } from 'vitest';
import { CommandParser } from '../../../../../edge-worker/ftp/control/command-parser.js';

const feed = (parser: CommandParser, bytes: number[] | string) =>
  parser.push(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));

describe('CommandParser', () => {
  it('splits commands, upper-cases the verb and keeps the argument verbatim', () => {
    const parser = new CommandParser(4096);
    expect(feed(parser, 'user Alice\r\nRETR  two  spaces.txt\r\nnoop\r\n')).toEqual([
      { kind: 'command', command: { verb: 'USER', arg: 'Alice' } },
      { kind: 'command', command: { verb: 'RETR', arg: ' two  spaces.txt' } },
      { kind: 'command', command: { verb: 'NOOP', arg: '' } },
    ]);
  });

  it('joins a command split across chunks', () => {
    const parser = new CommandParser(4096);
    expect(feed(parser, 'PA')).toEqual([]);
    expect(feed(parser, 'SV\r')).toEqual([{ kind: 'command', command: { verb: 'PASV', arg: '' } }]);
    // The LF of that CRLF arrives in the next chunk and must not produce an empty command.
    expect(feed(parser, '\nNOOP\r\n')).toEqual([{ kind: 'command', command: { verb: 'NOOP', arg: '' } }]);
  });

  it('strips Telnet IP and the remains of a Synch before ABOR', () => {
    const parser = new CommandParser(4096);
    // IAC IP IAC <DM went out-of-band> ABOR CRLF, as lftp sends it.
    expect(feed(parser, [0xff, 0xf4, 0xff, ...Buffer.from('ABOR\r\n')])).toEqual([
      { kind: 'command', command: { verb: 'ABOR', arg: '' } },
    ]);
  });

  it('drops the in-band DM when the IAC of the Synch went out of band (BSD ftp)', () => {
    const parser = new CommandParser(4096);
    expect(feed(parser, [0xff, 0xf4, 0xf2, ...Buffer.from('ABOR\r\n')])).toEqual([
      { kind: 'command', command: { verb: 'ABOR', arg: '' } },
    ]);
  });

  it('ends a line at a bare CR (ftplib sends ABOR as urgent data and the LF is lost)', () => {
    const parser = new CommandParser(4096);
    expect(feed(parser, 'ABOR\rNOOP\r\n')).toEqual([
      { kind: 'command', command: { verb: 'ABOR', arg: '' } },
      { kind: 'command', command: { verb: 'NOOP', arg: '' } },
    ]);
  });

  it('keeps an escaped 0xFF and drops option negotiation', () => {
    const parser = new CommandParser(4096);
    const [event] = feed(parser, [
      0xff,
      0xfb,
      0x01,
      ...Buffer.from('CWD a'),
      0xff,
      0xff,
      ...Buffer.from('b\r\n'),
    ]);
    expect(event).toEqual({ kind: 'command', command: { verb: 'CWD', arg: 'a\xffb' } });
  });

  it('reports an overlong line once and discards it without buffering it', () => {
    const parser = new CommandParser(64);
    const events = [
      ...feed(parser, `STOR ${'x'.repeat(100)}`),
      ...feed(parser, 'y'.repeat(1000)),
      ...feed(parser, '\r\nNOOP\r\n'),
    ];
    expect(events).toEqual([{ kind: 'too-long' }, { kind: 'command', command: { verb: 'NOOP', arg: '' } }]);
    expect((parser as unknown as { line: number[] }).line.length).toBe(0);
  });

  it('refuses a verb that is not letters only: RFC 959 separates it by one SP', () => {
    const parser = new CommandParser(4096);
    const lines = [
      '\tSTOR x',
      ' STOR x',
      'ST\tOR x',
      'STOR\tx',
      'STOR1 x',
      'ST-OR x',
      '\xdfTOR x',
      'S\0TOR x',
    ];
    for (const line of lines)
      expect(feed(parser, `${line}\r\n`), JSON.stringify(line)).toEqual([{ kind: 'bad-verb' }]);
    // The argument may hold anything, and the parser goes on with the next line.
    expect(feed(parser, 'STOR \ta b\r\nnoop\r\n')).toEqual([
      { kind: 'command', command: { verb: 'STOR', arg: '\ta b' } },
      { kind: 'command', command: { verb: 'NOOP', arg: '' } },
    ]);
  });
});
