import { describe, expect, it } from 'vitest';
import { numericHost, parseInetAton } from '../../../../../functions/core/net/address-resolver.js';
import {
  classifyAddress,
  DestinationPolicy,
  parseAllowNetworks,
} from '../../../../../functions/core/net/destination-policy.js';

describe('destination address policy', () => {
  it('classifies addresses, IPv4-mapped and embedded ones by the IPv4 address', () => {
    const kinds = Object.fromEntries(
      [
        '8.8.8.8',
        '2001:4860:4860::8888',
        '127.0.0.1',
        '127.255.0.9',
        '::1',
        '::ffff:127.0.0.1',
        '10.1.2.3',
        '172.31.0.1',
        '192.168.1.1',
        '100.64.0.1',
        'fd12::1',
        '169.254.169.254',
        '::ffff:169.254.169.254',
        'fd00:ec2::254',
        '169.254.10.10',
        'fe80::1',
        'fe80::1%eth0',
        '0.0.0.0',
        '0.1.2.3',
        '::',
        '224.0.0.1',
        'ff02::1',
        '255.255.255.255',
        '240.0.0.1',
        '64:ff9b::7f00:1',
        '2002:a9fe:a9fe::1',
        '64:ff9b::808:808',
      ].map((address) => [address, classifyAddress(address)?.kind]),
    );
    expect(kinds).toEqual({
      '8.8.8.8': 'public',
      '2001:4860:4860::8888': 'public',
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '::1': 'loopback',
      '::ffff:127.0.0.1': 'loopback',
      '10.1.2.3': 'private',
      '172.31.0.1': 'private',
      '192.168.1.1': 'private',
      '100.64.0.1': 'private',
      'fd12::1': 'private',
      '169.254.169.254': 'metadata',
      '::ffff:169.254.169.254': 'metadata',
      'fd00:ec2::254': 'metadata',
      '169.254.10.10': 'link-local',
      'fe80::1': 'link-local',
      'fe80::1%eth0': 'link-local',
      '0.0.0.0': 'unspecified',
      '0.1.2.3': 'unspecified',
      '::': 'unspecified',
      '224.0.0.1': 'multicast',
      'ff02::1': 'multicast',
      '255.255.255.255': 'broadcast',
      '240.0.0.1': 'reserved',
      '64:ff9b::7f00:1': 'loopback',
      '2002:a9fe:a9fe::1': 'metadata',
      '64:ff9b::808:808': 'public',
    });
    expect(classifyAddress('::ffff:127.0.0.1')?.address).toBe('127.0.0.1');
    expect(classifyAddress('not an address')).toBeUndefined();
  });

  it('opens loopback and private only when explicitly allowed; the rest only through the allow list', async () => {
    const own = new Set(['203.0.113.7']);
    const strict = new DestinationPolicy({ allowNetworks: [], ownAddresses: () => own });
    expect((await strict.check('8.8.8.8', 21)).allowed).toBe(true);
    expect((await strict.check('127.0.0.1', 21)).allowed).toBe(false);
    expect(
      (await strict.check('127.0.0.1', 21, (address, port) => `${address}:${port}` === '127.0.0.1:21'))
        .allowed,
    ).toBe(true);
    // An explicit match never opens link-local, metadata or the proxy's own address.
    for (const address of ['169.254.169.254', 'fe80::1', '0.0.0.0', '224.0.0.1', '203.0.113.7']) {
      const verdict = await strict.check(address, 21, () => true);
      expect(verdict.allowed, address).toBe(false);
    }
    expect(await strict.check('203.0.113.7', 21)).toMatchObject({ allowed: false, kind: 'self' });
    const listed = new DestinationPolicy({
      allowNetworks: parseAllowNetworks(['169.254.169.254/32', '10.0.0.0/8']),
      ownAddresses: () => own,
    });
    expect(await listed.check('::ffff:169.254.169.254', 80)).toMatchObject({
      allowed: true,
      address: '169.254.169.254',
    });
    expect((await listed.check('10.9.9.9', 21)).allowed).toBe(true);
    expect((await listed.check('169.254.169.253', 80)).allowed).toBe(false);
  });

  it('reads the numeric host forms inet_aton accepts, so they never reach a resolver', () => {
    expect(parseInetAton('2130706433')).toBe('127.0.0.1');
    expect(parseInetAton('0177.0.0.1')).toBe('127.0.0.1');
    expect(parseInetAton('0x7f.1')).toBe('127.0.0.1');
    expect(parseInetAton('0x7f000001')).toBe('127.0.0.1');
    expect(parseInetAton('127.1')).toBe('127.0.0.1');
    expect(parseInetAton('127.0.1')).toBe('127.0.0.1');
    expect(parseInetAton('0')).toBe('0.0.0.0');
    expect(parseInetAton('2852039166')).toBe('169.254.169.254');
    expect(parseInetAton('256.0.0.1')).toBeUndefined();
    expect(parseInetAton('4294967296')).toBeUndefined();
    expect(parseInetAton('08.0.0.1')).toBeUndefined();
    expect(parseInetAton('ftp.example.com')).toBeUndefined();
    expect(parseInetAton('1e3')).toBeUndefined();
    expect(numericHost('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(numericHost('ftp.example.com')).toBeUndefined();
  });
});
