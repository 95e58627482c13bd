import { DEFAULT_CIPHERS } from 'node:tls';

/**
 * The TLS 1.3 suites, in preference order, of both legs when none are configured (TLSCipherSuite /
 * ProxyTLSCipherSuite `TLSv1.3 ...`): the Mozilla "intermediate" order
 * (https://wiki.mozilla.org/Security/Server_Side_TLS). Node's and OpenSSL's own default puts
 * TLS_AES_256_GCM_SHA384 first, whose 14 AES rounds per block (AES-128: 10) cost more CPU per byte
 * where the CPU has AES-NI without vector AES; a relay with TLS on both legs decrypts and encrypts
 * every byte once per leg.
 */
export const DEFAULT_TLS13_CIPHER_SUITES =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

const isTls13Suite = (entry: string) => entry.startsWith('TLS_');

/**
 * The one `ciphers` string Node takes for both lists: it has no option of its own for TLS 1.3
 * suites (an unknown `ciphersuites` option is ignored) and sends the `TLS_` entries of `ciphers`
 * to SSL_CTX_set_ciphersuites, the rest to SSL_CTX_set_cipher_list. `ciphers` is the TLS 1.2 list
 * (Node's default when absent); the suites are `cipherSuites`, else `TLS_` entries already in
 * `ciphers`, else DEFAULT_TLS13_CIPHER_SUITES (`defaultSuites` then says so).
 */
export function nodeCipherList(
  ciphers: string | undefined,
  cipherSuites: string | undefined,
): { ciphers: string; defaultSuites: boolean } {
  const entries = (ciphers ?? DEFAULT_CIPHERS).split(':').filter(Boolean);
  const listed = ciphers === undefined ? [] : entries.filter(isTls13Suite);
  const suites = cipherSuites ?? (listed.length > 0 ? listed.join(':') : undefined);
  const rest = entries.filter((entry) => !isTls13Suite(entry));
  return {
    ciphers: [suites ?? DEFAULT_TLS13_CIPHER_SUITES, ...rest].join(':'),
    defaultSuites: suites === undefined,
  };
}
