import { describe, expect, it } from 'vitest';
import { parseTlsProtocols } from '../../../../edge-worker/config/tls-protocols.js';
import { listenerTlsSchema } from '../../../../edge-worker/config/tls-schema.js';
import { backendTlsMode } from '../../../../edge-worker/ftp/tls/backend-tls.js';
import {
  BACKEND_SESSION_MAX_AGE_MS,
  BackendTlsSessions,
  MAX_BACKEND_SESSIONS,
} from '../../../../edge-worker/tls/backend-tls-sessions.js';
import { FrontendTls } from '../../../../edge-worker/tls/frontend-tls-context.js';
import { refusedWithoutTls, tlsPolicy } from '../../../../edge-worker/tls/tls-policy.js';
import { parseBackendUrl } from '../../../../functions/core/backend-url.js';

const url = (text: string) => {
  const parsed = parseBackendUrl(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.url;
};

describe('TLS settings', () => {
  it('reads TLSProtocol lists and ALL forms', () => {
    expect(parseTlsProtocols('TLSv1.2 TLSv1.3')).toEqual({ ok: true, versions: ['TLSv1.2', 'TLSv1.3'] });
    expect(parseTlsProtocols('ALL -TLSv1 -TLSv1.1')).toEqual({ ok: true, versions: ['TLSv1.2', 'TLSv1.3'] });
    expect(parseTlsProtocols('TLSv1.0 TLSv1.1')).toEqual({ ok: true, versions: ['TLSv1', 'TLSv1.1'] });
    expect(parseTlsProtocols('ALL TLSv1')).toEqual({
      ok: false,
      error: '"TLSv1": after ALL every protocol needs a + or - prefix',
    });
    expect(parseTlsProtocols('ALL -TLSv1 -TLSv1.1 -TLSv1.2 -TLSv1.3')).toEqual({
      ok: false,
      error: 'allows no protocol at all',
    });
    expect(parseTlsProtocols('TLSv1.4')).toMatchObject({ ok: false });
  });

  it('reads TLSRequired as mod_tls does', () => {
    expect(tlsPolicy('on')).toEqual({ control: 'ctrl', data: 'required' });
    expect(tlsPolicy('!data')).toEqual({ control: 'off', data: 'refused' });
    expect(tlsPolicy('auth+data')).toEqual({ control: 'auth', data: 'required' });
    expect(refusedWithoutTls(tlsPolicy('ctrl'), 'PWD')).toBe(true);
    expect(refusedWithoutTls(tlsPolicy('ctrl'), 'AUTH')).toBe(false);
    expect(refusedWithoutTls(tlsPolicy('auth'), 'PWD')).toBe(false);
    expect(refusedWithoutTls(tlsPolicy('auth'), 'USER')).toBe(true);
    expect(refusedWithoutTls(tlsPolicy('data'), 'USER')).toBe(false);
  });

  it('chooses the backend TLS mode as ProxyTLSEngine says', () => {
    expect(backendTlsMode(url('ftp://h'), 'auto', 'none')).toBe('try');
    expect(backendTlsMode(url('ftps://h'), 'auto', 'none')).toBe('required');
    expect(backendTlsMode(url('ftps://h:990'), 'auto', 'none')).toBe('implicit');
    expect(backendTlsMode(url('ftps://h:990'), 'off', 'none')).toBe('off');
    expect(backendTlsMode(url('ftp://h'), 'on', 'none')).toBe('required');
    expect(backendTlsMode(url('ftp://h'), 'MatchClient', 'none')).toBe('off');
    expect(backendTlsMode(url('ftp://h'), 'MatchClient', 'explicit')).toBe('required');
    expect(backendTlsMode(url('ftp://h'), 'MatchClient', 'implicit')).toBe('implicit');
  });

  it('caches backend sessions like mod_proxy: 1000 entries, 24 hours, one per backend and trust context', () => {
    const CTX = 'a'.repeat(64);
    let now = 0;
    const sessions = new BackendTlsSessions(() => now);
    for (let i = 0; i < MAX_BACKEND_SESSIONS + 5; i++)
      sessions.set(`ftp://h${i}:21`, CTX, Buffer.from([i % 256]));
    expect(sessions.size).toBe(MAX_BACKEND_SESSIONS);
    expect(sessions.get(`ftp://h${MAX_BACKEND_SESSIONS}:21`, CTX)).toBeUndefined();
    // A backend already cached gets its newer session.
    sessions.set('ftp://h1:21', CTX, Buffer.from('new'));
    expect(sessions.get('ftp://h1:21', CTX)?.toString()).toBe('new');
    // Another trust context never sees it.
    expect(sessions.get('ftp://h1:21', 'b'.repeat(64))).toBeUndefined();
    now += BACKEND_SESSION_MAX_AGE_MS + 1;
    expect(sessions.get('ftp://h1:21', CTX)).toBeUndefined();
    expect(sessions.size).toBe(MAX_BACKEND_SESSIONS - 1);
  });

  it('names the key and the file of a certificate that cannot be read', async () => {
    const config = listenerTlsSchema.parse({ certificates: [{ cert: '/nonexistent/server.pem' }] });
    await expect(FrontendTls.load(config, 'listeners[0].tls')).rejects.toThrow(
      'listeners[0].tls.certificates[0].cert: cannot read /nonexistent/server.pem: ENOENT',
    );
  });

  it('refuses a client-certificate check without a CA, and a relative certificate path', () => {
    expect(
      listenerTlsSchema.safeParse({ certificates: [{ cert: '/c.pem' }], verifyClient: 'on' }).error
        ?.issues[0],
    ).toMatchObject({
      path: ['clientCA'],
      message: 'verifyClient on needs clientCA (TLSCACertificateFile)',
    });
    expect(listenerTlsSchema.safeParse({ certificates: [{ cert: 'c.pem' }] }).error?.issues[0]?.message).toBe(
      'must be an absolute path',
    );
  });
});
