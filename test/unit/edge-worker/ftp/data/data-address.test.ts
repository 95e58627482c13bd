import { describe, expect, it } from 'vitest';
import {
  asIPv4,
  formatEprtArgument,
  formatEpsvReply,
  formatPasvReply,
  formatPortArgument,
  isIPv6Only,
  isRfc1918,
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
  sameHost,
} from '../../../../../edge-worker/ftp/data/data-address.js';

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

describe('active-mode arguments', () => {
  it('parses and formats PORT', () => {
    expect(parsePortArgument('127,0,0,1,195,80')).toEqual({ host: '127.0.0.1', port: 50000 });
    expect(parsePortArgument('127,0,0,1,256,80')).toBeUndefined();
    expect(parsePortArgument('127,0,0,1,195')).toBeUndefined();
    expect(formatPortArgument('10.1.2.3', 1025)).toBe('10,1,2,3,4,1');
  });

  it('parses EPRT for both families and tells syntax from family errors', () => {
    expect(parseEprtArgument('|1|132.235.1.2|6275|')).toEqual({
      ok: true,
      address: { host: '132.235.1.2', port: 6275 },
    });
    expect(parseEprtArgument('|2|::1|5282|')).toEqual({ ok: true, address: { host: '::1', port: 5282 } });
    expect(parseEprtArgument('!2!1080::8:800:200C:417A!5282!')).toMatchObject({ ok: true });
    expect(parseEprtArgument('|3|1.2.3.4|5|')).toEqual({ ok: false, reason: 'family' });
    expect(parseEprtArgument('|1|::1|5|')).toEqual({ ok: false, reason: 'syntax' });
    expect(parseEprtArgument('|1|1.2.3.4|0|')).toEqual({ ok: false, reason: 'syntax' });
    expect(parseEprtArgument('1|1.2.3.4|5|')).toEqual({ ok: false, reason: 'syntax' });
    expect(formatEprtArgument('::ffff:10.0.0.1', 2000)).toBe('|1|10.0.0.1|2000|');
    expect(formatEprtArgument('fe80::1', 2000)).toBe('|2|fe80::1|2000|');
  });

  it('knows RFC 1918 space and real IPv6', () => {
    expect(
      ['10.1.1.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '::ffff:10.0.0.1'].every(isRfc1918),
    ).toBe(true);
    expect(['172.32.0.1', '11.0.0.1', '127.0.0.1', '::1'].some(isRfc1918)).toBe(false);
    expect(isIPv6Only('::1')).toBe(true);
    expect(isIPv6Only('::ffff:127.0.0.1')).toBe(false);
  });
});
