import { describe, expect, it } from 'vitest';
import { ClientClasses } from '../../../../edge-worker/forward/client-class.js';
import { compileForwardTo, parseForwardToDirective } from '../../../../edge-worker/forward/forward-to.js';

describe('client classes and ProxyForwardEnabled', () => {
  it('allows only RFC 1918 clients when no class decides; loopback and public addresses are refused', () => {
    const classes = new ClientClasses([]);
    for (const address of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '::ffff:10.0.0.7']) {
      expect(classes.forwardAccess(address).allowed, address).toBe(true);
    }
    for (const address of ['127.0.0.1', '::1', '172.32.0.1', '8.8.8.8', '2001:db8::1', '11.0.0.1']) {
      expect(classes.forwardAccess(address).allowed, address).toBe(false);
    }
  });

  it('lets the first matching class decide when it sets ProxyForwardEnabled', () => {
    const classes = new ClientClasses([
      { name: 'lab', from: ['192.168.7.0/24'], forwardEnabled: false },
      { name: 'loopback', from: ['127.0.0.0/8', '::1'], forwardEnabled: true },
      { name: 'wide', from: ['0.0.0.0/0'], forwardEnabled: true },
      { name: 'silent', from: ['10.9.0.0/16'] },
    ]);
    expect(classes.forwardAccess('192.168.7.9')).toMatchObject({ allowed: false, className: 'lab' });
    expect(classes.forwardAccess('127.0.0.1')).toMatchObject({ allowed: true, className: 'loopback' });
    expect(classes.forwardAccess('::1')).toMatchObject({ allowed: true, className: 'loopback' });
    expect(classes.forwardAccess('8.8.8.8')).toMatchObject({ allowed: true, className: 'wide' });
    expect(classes.classify('2001:db8::1')).toBeUndefined();
  });

  it('falls back to the RFC 1918 rule for a class that does not set it', () => {
    const classes = new ClientClasses([{ name: 'silent', from: ['10.9.0.0/16', '203.0.113.0/24'] }]);
    expect(classes.forwardAccess('10.9.1.1')).toMatchObject({ allowed: true, className: 'silent' });
    const refused = classes.forwardAccess('203.0.113.5');
    expect(refused).toMatchObject({ allowed: false, className: 'silent' });
    expect(refused.reason).toContain('class "silent" does not set it');
  });
});

describe('ProxyForwardTo', () => {
  const test = (args: string[], hostPort: string) => {
    const parsed = parseForwardToDirective(args);
    if (!parsed.ok) throw new Error(parsed.error);
    const compiled = compileForwardTo(parsed.rule);
    if (!compiled.ok) throw new Error(compiled.error);
    return compiled.test(hostPort);
  };

  it('matches host:port with a POSIX extended regex, negated with "!", case-insensitive with [NC]', () => {
    expect(test(['^ftp\\.example\\.com:21$'], 'ftp.example.com:21')).toBe(true);
    expect(test(['^ftp\\.example\\.com:21$'], 'ftp.example.com:2121')).toBe(false);
    expect(test(['^ftp\\.example\\.com:21$'], 'FTP.example.com:21')).toBe(false);
    expect(test(['^ftp\\.example\\.com:21$', '[NC]'], 'FTP.example.com:21')).toBe(true);
    expect(test(['^ftp\\.example\\.com:21$', 'nocase'], 'FTP.EXAMPLE.com:21')).toBe(true);
    expect(test(['!\\.internal:'], 'db.internal:21')).toBe(false);
    expect(test(['!\\.internal:'], 'ftp.example.com:21')).toBe(true);
    expect(test([':[[:digit:]]{4}$'], 'host:2121')).toBe(true);
    expect(test([':[[:digit:]]{4}$'], 'host:21')).toBe(false);
    expect(test(['^\\[::1\\]:'], '[::1]:2121')).toBe(true);
  });

  it('refuses bad patterns and flags', () => {
    expect(parseForwardToDirective([])).toMatchObject({ ok: false, error: 'needs a pattern' });
    expect(parseForwardToDirective(['!'])).toMatchObject({ ok: false });
    expect(parseForwardToDirective(['(unclosed'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('not a valid regular expression'),
    });
    expect(parseForwardToDirective(['x', '[XY]'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown flag'),
    });
    expect(parseForwardToDirective(['[[:nope:]]'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown [:class:]'),
    });
  });
});
