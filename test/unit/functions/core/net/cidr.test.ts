import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  inNetworks,
  parseCidr,
  parseCidrList,
} from '../../../../../functions/core/net/cidr.js';

function cidr(text: string) {
  const result = parseCidr(text);
  if (!result.ok) throw new Error(result.error);
  return result.cidr;
}

function error(text: string): string {
  const result = parseCidr(text);
  if (result.ok) throw new Error(`expected an error for ${text}`);
  return result.error;
}

describe('parseCidr', () => {
  it('accepts IPv4, IPv6 and bare addresses', () => {
    expect(cidr('10.0.0.0/8')).toMatchObject({ text: '10.0.0.0/8', family: 4, prefix: 104 });
    expect(cidr(' 192.0.2.7 ')).toMatchObject({ text: '192.0.2.7', family: 4, prefix: 128 });
    expect(cidr('2001:db8::/32')).toMatchObject({ family: 6, prefix: 32 });
    expect(cidr('::1')).toMatchObject({ family: 6, prefix: 128 });
    expect(cidr('0.0.0.0/0')).toMatchObject({ family: 4, prefix: 96 });
    expect(cidr('::/0')).toMatchObject({ family: 6, prefix: 0 });
    expect(cidr('::ffff:10.0.0.0/104')).toMatchObject({ family: 6, prefix: 104 });
  });

  it('names the bad entry and says why', () => {
    expect(error('10.0.0.0/33')).toBe('invalid CIDR "10.0.0.0/33": prefix length must be 0-32 for IPv4');
    expect(error('2001:db8::/129')).toBe(
      'invalid CIDR "2001:db8::/129": prefix length must be 0-128 for IPv6',
    );
    expect(error('10.0.0.0/')).toBe('invalid CIDR "10.0.0.0/": prefix length "" is not a number');
    expect(error('10.0.0.0/08')).toBe('invalid CIDR "10.0.0.0/08": prefix length "08" is not a number');
    expect(error('10.0.0.0/8/8')).toBe('invalid CIDR "10.0.0.0/8/8": prefix length "8/8" is not a number');
    expect(error('lb.internal/24')).toBe(
      'invalid CIDR "lb.internal/24": "lb.internal" is not an IPv4 or IPv6 address',
    );
    expect(error('010.0.0.0/8')).toBe(
      'invalid CIDR "010.0.0.0/8": "010.0.0.0" is not an IPv4 or IPv6 address',
    );
    expect(error('')).toBe('invalid CIDR "": "" is not an IPv4 or IPv6 address');
    expect(error('fe80::%eth0/64')).toBe('invalid CIDR "fe80::%eth0/64": zone ids are not allowed');
    expect(error('10.0.0.1/8')).toBe(
      'invalid CIDR "10.0.0.1/8": host bits are set (did you mean "10.0.0.0/8"?)',
    );
    expect(error('2001:db8::1/64')).toBe(
      'invalid CIDR "2001:db8::1/64": host bits are set (did you mean "2001:db8::/64"?)',
    );
  });

  it('parseCidrList reports the first bad entry', () => {
    expect(parseCidrList(['10.0.0.0/8', '::1']).ok).toBe(true);
    expect(parseCidrList(['10.0.0.0/8', '300.0.0.0/8', 'x'])).toEqual({
      ok: false,
      error: 'invalid CIDR "300.0.0.0/8": "300.0.0.0" is not an IPv4 or IPv6 address',
    });
  });
});

describe('matching', () => {
  it('IPv4 CIDRs match IPv4 and IPv4-mapped addresses', () => {
    const net = cidr('10.1.0.0/16');
    expect(cidrContains(net, '10.1.0.0')).toBe(true);
    expect(cidrContains(net, '10.1.255.255')).toBe(true);
    expect(cidrContains(net, '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(net, '10.2.0.0')).toBe(false);
    expect(cidrContains(net, '::a01:203')).toBe(false); // IPv4-compatible, not mapped
  });

  it('non-octet prefixes', () => {
    const net = cidr('192.0.2.64/27');
    expect(cidrContains(net, '192.0.2.63')).toBe(false);
    expect(cidrContains(net, '192.0.2.64')).toBe(true);
    expect(cidrContains(net, '192.0.2.95')).toBe(true);
    expect(cidrContains(net, '192.0.2.96')).toBe(false);
    const v6 = cidr('2001:db8:8000::/33');
    expect(cidrContains(v6, '2001:db8:8000::1')).toBe(true);
    expect(cidrContains(v6, '2001:db8:7fff::1')).toBe(false);
  });

  it('IPv6 CIDRs, zone ids ignored in the address', () => {
    expect(cidrContains(cidr('fe80::/10'), 'fe80::1%eth0')).toBe(true);
    expect(cidrContains(cidr('2001:db8::/32'), '2001:DB8:0:0::5')).toBe(true);
    expect(cidrContains(cidr('2001:db8::/32'), '2001:db9::5')).toBe(false);
    expect(cidrContains(cidr('::1'), '::1')).toBe(true);
    expect(cidrContains(cidr('::1'), '127.0.0.1')).toBe(false);
  });

  it('IPv4 and IPv6 share the mapped space', () => {
    expect(cidrContains(cidr('::ffff:10.0.0.0/104'), '10.9.9.9')).toBe(true);
    expect(cidrContains(cidr('::/0'), '192.0.2.1')).toBe(true);
    expect(cidrContains(cidr('0.0.0.0/0'), '2001:db8::1')).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), '::ffff:192.0.2.1')).toBe(true);
  });

  it('inNetworks: strings or parsed entries, fails closed', () => {
    const trusted = ['10.0.0.0/8', '2001:db8:1::/48'];
    expect(inNetworks('10.20.30.40', trusted)).toBe(true);
    expect(inNetworks('::ffff:10.20.30.40', trusted)).toBe(true);
    expect(inNetworks('2001:db8:1:2::3', trusted)).toBe(true);
    expect(inNetworks('203.0.113.1', trusted)).toBe(false);
    expect(inNetworks('2001:db8:2::3', trusted)).toBe(false);
    expect(inNetworks('10.0.0.1', [])).toBe(false);
    expect(inNetworks('not an address', ['0.0.0.0/0', '::/0'])).toBe(false);
    expect(inNetworks('10.0.0.1', ['10.0.0.1/8', 'garbage'])).toBe(false);
    expect(inNetworks('10.0.0.1', [cidr('10.0.0.0/24')])).toBe(true);
  });
});
