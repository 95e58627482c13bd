import { describe, expect, it } from 'vitest';
import { ReplyParseError, ReplyParser } from '../../../../../edge-worker/ftp/control/reply-parser.js';

const parse = (...chunks: string[]) => {
  const parser = new ReplyParser();
  return chunks.flatMap((chunk) => parser.push(Buffer.from(chunk, 'latin1')));
};

describe('ReplyParser', () => {
  it('parses single-line replies split across chunks', () => {
    expect(parse('220 Serv', 'er ready\r\n331 Pass', 'word\r\n')).toEqual([
      { code: 220, lines: ['220 Server ready'] },
      { code: 331, lines: ['331 Password'] },
    ]);
  });

  it('parses multi-line replies and keeps their lines verbatim', () => {
    const [reply] = parse('211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n');
    expect(reply).toEqual({ code: 211, lines: ['211-Features:', ' MDTM', ' SIZE', '211 End'] });
  });

  it('accepts continuation lines without a leading space and a bare final code (IIS, issue #328)', () => {
    const [reply] = parse('230-Welcome\r\nline two\r\n230-still going\r\n230\r\n');
    expect(reply?.lines).toEqual(['230-Welcome', 'line two', '230-still going', '230']);
  });

  it('does not end a multi-line reply on another code', () => {
    const replies = parse('220-hello\r\n221 not the end\r\n220 end\r\n');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.lines).toHaveLength(3);
  });

  it('skips blank lines between replies and accepts bare LF', () => {
    expect(parse('\r\n\n200 OK\n')).toEqual([{ code: 200, lines: ['200 OK'] }]);
  });

  it('rejects garbage and overlong lines', () => {
    expect(() => parse('HTTP/1.1 200 OK\r\n')).toThrow(ReplyParseError);
    expect(() => parse('099 too low\r\n')).toThrow(ReplyParseError);
    expect(() => new ReplyParser({ maxLineBytes: 100 }).push(Buffer.alloc(200, 0x41))).toThrow(
      /longer than 100/,
    );
  });

  it('bounds the size of a multi-line reply', () => {
    const parser = new ReplyParser({ maxReplyBytes: 1000 });
    parser.push(Buffer.from('211-start\r\n'));
    expect(() => {
      for (let i = 0; i < 100; i++) parser.push(Buffer.from(` line ${i} padding padding\r\n`));
    }).toThrow(/larger than 1000/);
  });
});
