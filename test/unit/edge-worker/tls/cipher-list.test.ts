import { createSecureContext, DEFAULT_CIPHERS } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TLS13_CIPHER_SUITES, nodeCipherList } from '../../../../edge-worker/tls/cipher-list.js';

/** Node takes TLS 1.3 suites only inside `ciphers`: what each configuration turns into. */
describe('nodeCipherList', () => {
  it('puts the default TLS 1.3 order before the TLS 1.2 list when no suites are configured', () => {
    expect(nodeCipherList('PSK:DEFAULT:!ADH:@SECLEVEL=0', undefined)).toEqual({
      ciphers: `${DEFAULT_TLS13_CIPHER_SUITES}:PSK:DEFAULT:!ADH:@SECLEVEL=0`,
      defaultSuites: true,
    });
    const nodeDefault = nodeCipherList(undefined, undefined);
    expect(nodeDefault.defaultSuites).toBe(true);
    expect(nodeDefault.ciphers.split(':').filter((entry) => entry.startsWith('TLS_'))).toEqual(
      DEFAULT_TLS13_CIPHER_SUITES.split(':'),
    );
    expect(nodeDefault.ciphers.endsWith(DEFAULT_CIPHERS.split(':').at(-1) ?? '')).toBe(true);
  });

  it('keeps configured suites as written, from cipherSuites or from TLS_ entries of ciphers', () => {
    expect(nodeCipherList('ECDHE-RSA-AES128-GCM-SHA256', 'TLS_CHACHA20_POLY1305_SHA256')).toEqual({
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256',
      defaultSuites: false,
    });
    expect(nodeCipherList('TLS_AES_256_GCM_SHA384:HIGH', undefined)).toEqual({
      ciphers: 'TLS_AES_256_GCM_SHA384:HIGH',
      defaultSuites: false,
    });
    expect(nodeCipherList('TLS_AES_256_GCM_SHA384:HIGH', 'TLS_AES_128_GCM_SHA256').ciphers).toBe(
      'TLS_AES_128_GCM_SHA256:HIGH',
    );
    expect(() =>
      createSecureContext({ ciphers: nodeCipherList(undefined, undefined).ciphers }),
    ).not.toThrow();
  });
});
