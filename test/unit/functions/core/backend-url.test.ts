import { describe, expect, it } from 'vitest';
import {
  backendKey,
  parseBackendUrl,
  redactUrl,
  urlPasswordRefusal,
} from '../../../../functions/core/backend-url.js';

const ok = (text: string) => {
  const result = parseBackendUrl(text);
  if (!result.ok) throw new Error(result.error);
  return result.url;
};

describe('parseBackendUrl', () => {
  it('applies default ports and keeps credentials', () => {
    expect(ok('ftp://ftp.example.com')).toEqual({
      protocol: 'ftp',
      host: 'ftp.example.com',
      port: 21,
      implicitTls: false,
    });
    expect(ok('sftp://h').port).toBe(22);
    expect(ok('ftp://bob:s3cret@h:2121/ignored/path')).toMatchObject({
      user: 'bob',
      password: 's3cret',
      port: 2121,
    });
    expect(ok('ftp://bob:@h')).toMatchObject({ user: 'bob', password: '' });
    expect(ok('ftp://bob@h')).toMatchObject({ user: 'bob' });
    expect(ok('ftp://bob@h').password).toBeUndefined();
  });

  it('parses IPv6, implicit FTPS and discovery forms', () => {
    expect(ok('ftp://[::1]:2121')).toMatchObject({ host: '::1', port: 2121 });
    expect(ok('ftps://h:990')).toMatchObject({ protocol: 'ftps', implicitTls: true });
    expect(ok('ftps://h')).toMatchObject({ implicitTls: false });
    expect(ok('FTP+SRV://_ftp._tcp.example.com')).toMatchObject({ protocol: 'ftp', discovery: 'srv' });
  });

  it('rejects what mod_proxy rejects, with the reason', () => {
    const error = (text: string) => {
      const result = parseBackendUrl(text);
      return result.ok ? 'parsed' : result.error;
    };
    expect(error('http://h')).toMatch(/expected ftp/);
    expect(error('ftp://h%20x')).toMatch(/percent-encoding/);
    expect(error('ftp://::1')).toMatch(/brackets/);
    expect(error('ftp://h:99999')).toMatch(/not a port/);
    expect(error('ftp://[::1')).toMatch(/unclosed/);
    expect(error('ftp://u:secret@h:0')).not.toContain('secret');
  });

  it('never shows passwords in redacted text or keys', () => {
    expect(redactUrl('ftp://bob:s3cret@h:21')).toBe('ftp://bob:***@h:21');
    expect(redactUrl('ftp://bob@h')).toBe('ftp://bob@h');
    expect(backendKey(ok('ftp://bob:s3cret@[::1]:21'))).toBe('ftp://[::1]:21');
  });

  it('refuses a URL password without proxy authentication, and nothing else', () => {
    expect(urlPasswordRefusal(ok('ftp://svc:s3cret@h'), false)).toMatch(/needs proxy authentication/);
    expect(urlPasswordRefusal(ok('sftp://svc:s3cret@h'), false)).not.toContain('s3cret');
    expect(urlPasswordRefusal(ok('ftp://svc:s3cret@h'), true)).toBeUndefined();
    // A user alone (or with an empty password) keeps the client's password.
    expect(urlPasswordRefusal(ok('ftp://svc@h'), false)).toBeUndefined();
    expect(urlPasswordRefusal(ok('ftp://svc:@h'), false)).toBeUndefined();
    expect(urlPasswordRefusal(ok('ftp://h'), false)).toBeUndefined();
  });
});
