import { describe, expect, it } from 'vitest';
import {
  asIPv4,
  formatEpsvReply,
  formatPasvReply,
  parseEpsvReply,
  parsePasvReply,
  sameHost,
} from '../../../edge-worker/ftp/passive-address.js';

describe('passive replies', () => {
  it('parses 227 with and without parentheses', () => {
    expect(parsePasvReply({ code: 227, lines: ['227 Entering Passive Mode (127,0,0,1,195,80).'] })).toEqual({
      host: '127.0.0.1',
      port: 50000,
    });
    expect(parsePasvReply({ code: 227, lines: ['227 =10,1,2,3,4,1'] })).toEqual({
      host: '10.1.2.3',
      port: 1025,
    });
    expect(parsePasvReply({ code: 227, lines: ['227 (300,0,0,1,4,1)'] })).toBeUndefined();
    expect(parsePasvReply({ code: 500, lines: ['500 no'] })).toBeUndefined();
  });

  it('parses 229 with any delimiter', () => {
    expect(parseEpsvReply({ code: 229, lines: ['229 Entering Extended Passive Mode (|||6446|)'] })).toEqual({
      port: 6446,
    });
    expect(parseEpsvReply({ code: 229, lines: ['229 ok (!!!2000!)'] })).toEqual({ port: 2000 });
    expect(parseEpsvReply({ code: 229, lines: ['229 ok (|||99999|)'] })).toBeUndefined();
  });

  it('formats what clients parse', () => {
    expect(formatPasvReply('192.168.1.2', 50001)).toBe('Entering Passive Mode (192,168,1,2,195,81).');
    expect(formatEpsvReply(50001)).toBe('Entering Extended Passive Mode (|||50001|)');
  });

  it('treats IPv4-mapped IPv6 addresses as their IPv4 address', () => {
    expect(asIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(asIPv4('::1')).toBeUndefined();
    expect(sameHost('::ffff:10.0.0.1', '10.0.0.1')).toBe(true);
    expect(sameHost('10.0.0.2', '10.0.0.1')).toBe(false);
  });
});
