import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';

/**
 * Everything that decides whether a backend's certificate is accepted, as loaded from a pool's
 * ProxyTLS* settings: file contents, never paths (two paths to one CA are one context; one path
 * whose file changed between reloads is another).
 */
export interface BackendTrustMaterial {
  /** PEM CA certificates (caFile, caPath); empty: Node's bundled roots. */
  ca: readonly string[];
  /** PEM CRLs (crlFile, crlPath). */
  crl: readonly string[];
  verifyServer: boolean;
  /** The client certificate file's content (it may hold the key too: digested like the rest). */
  clientCert: string | undefined;
  /** The client key file's content. */
  clientKey: string | undefined;
  psk: { identity: string; key: Buffer } | undefined;
  minVersion: string | undefined;
  maxVersion: string | undefined;
  /** The TLS 1.2 cipher list as given to OpenSSL (with the PSK and security-level additions). */
  ciphers: string;
  cipherSuites: string | undefined;
}

/** Bumped whenever the serialisation changes, so digests of two layouts never meet. */
const LAYOUT = 'ftpx-backend-tls-trust/1';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The trust context's digest (sha256, hex) that a cached backend TLS session is filed under.
 *
 * A resumed session is not verified again: OpenSSL keeps the verification result in the
 * SSL_SESSION and SSL_get_verify_result(3) returns that one on resumption, and Node's client skips
 * checkServerIdentity when the session was reused. A session verified under one pool's CAs would
 * therefore let another pool, which trusts other CAs (or checks revocation, or presents another
 * client certificate), reach the backend unverified. So a session is resumed only under the very
 * settings it was made under.
 *
 * Each value is digested on its own and sets are sorted, then the canonical JSON of the whole is
 * digested: secrets (a key, a PSK) never appear in the result, in a store key or in a log.
 */
export async function backendTrustDigest(material: BackendTrustMaterial): Promise<string> {
  const roots =
    material.ca.length > 0
      ? { configured: material.ca.map(sha256).sort() }
      : { bundled: sha256(rootCertificates.join('\n')), extra: await extraCaDigest() };
  const canonical = JSON.stringify([
    LAYOUT,
    ['ca', roots],
    ['crl', material.crl.map(sha256).sort()],
    ['verifyServer', material.verifyServer],
    ['clientCert', material.clientCert === undefined ? null : sha256(material.clientCert)],
    ['clientKey', material.clientKey === undefined ? null : sha256(material.clientKey)],
    [
      'psk',
      material.psk === undefined
        ? null
        : { identity: sha256(material.psk.identity), key: sha256(material.psk.key) },
    ],
    ['minVersion', material.minVersion ?? null],
    ['maxVersion', material.maxVersion ?? null],
    ['ciphers', material.ciphers],
    ['cipherSuites', material.cipherSuites ?? null],
  ]);
  return sha256(canonical);
}

/**
 * The digest of one connect's context: the pool's trust digest and the name the certificate must
 * match (the SNI name or the IP address checked against the certificate's SANs). Node does not
 * check the name again on resumption, so a session made for one name is never offered to another.
 */
export function backendSessionContext(trustDigest: string, expectedHost: string): string {
  return sha256(`${trustDigest}\u0000${expectedHost}`);
}

/** NODE_EXTRA_CA_CERTS joins the bundled roots (Node reads it at start): its content is part of the set. */
async function extraCaDigest(): Promise<string | null> {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return null;
  return readFile(path).then(sha256, () => sha256(`unreadable:${path}`));
}
