import { describe, expect, it } from 'vitest';
import { parseDestination, splitUserAtHost } from '../../../../edge-worker/forward/destination.js';

describe('forward destination parsing (mod_proxy lib/proxy/forward.c)', () => {
  it.each([
    ['ftp.example.com', 'ftp.example.com', 21, 'ftp.example.com:21'],
    ['ftp.example.com:2121', 'ftp.example.com', 2121, 'ftp.example.com:2121'],
    ['127.0.0.1:990', '127.0.0.1', 990, '127.0.0.1:990'],
    ['[::1]', '::1', 21, '[::1]:21'],
    ['[2001:db8::5]:2121', '2001:db8::5', 2121, '[2001:db8::5]:2121'],
    // lftp writes IPv6 destinations without brackets; the last ':' is the port when a host remains.
    ['::1:2121', '::1', 2121, '[::1]:2121'],
    // A bare IPv6 address whose split would leave no valid host is the host itself (mod_proxy: host ":").
    ['::1', '::1', 21, '[::1]:21'],
    ['FTP.Example.COM.', 'FTP.Example.COM.', 21, 'FTP.Example.COM.:21'],
  ])('%s -> %s port %d', (text, host, port, hostPort) => {
    expect(parseDestination(text)).toEqual({ ok: true, destination: { host, port, hostPort } });
  });

  it.each([
    ['', /no destination/],
    ['host:', /"" is not a port/],
    ['host:65536', /not a port number/],
    ['host:21a', /not a port number/],
    ['host:0', /port 0/],
    [':21', /no host/],
    ['[::1', /unclosed/],
    ['[127.0.0.1]:21', /not an IPv6 address/],
    ['[::1]x', /unexpected text/],
    ['bad_host!:21', /not a valid host/],
  ])('refuses %j', (text, error) => {
    const result = parseDestination(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });

  it('splits USER at the last "@", so user names may contain "@"', () => {
    expect(splitUserAtHost('bob@corp@ftp.example.com:21')).toEqual({
      user: 'bob@corp',
      destination: 'ftp.example.com:21',
    });
    expect(splitUserAtHost('alice')).toEqual({ user: 'alice', destination: undefined });
    expect(splitUserAtHost('alice@')).toEqual({ user: 'alice', destination: '' });
  });
});
