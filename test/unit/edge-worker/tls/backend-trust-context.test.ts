import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendTlsSchema } from '../../../../edge-worker/config/tls-schema.js';
import { BackendTls } from '../../../../edge-worker/tls/backend-tls-context.js';
import {
  type BackendTrustMaterial,
  backendSessionContext,
  backendTrustDigest,
} from '../../../../edge-worker/tls/backend-trust-context.js';
import { createTestCa, type TestCa } from '../../../support/test-ca.js';

/** The trust context a cached backend TLS session is filed under (issue 14, hole 2). */
describe('backend TLS trust context', () => {
  let ca: TestCa;
  let other: TestCa;
  let dir: string;

  beforeAll(async () => {
    [ca, other] = await Promise.all([createTestCa(), createTestCa()]);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-trust-context-'));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([ca?.remove(), other?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const base: BackendTrustMaterial = {
    ca: ['-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n'],
    crl: [],
    verifyServer: true,
    clientCert: undefined,
    clientKey: undefined,
    psk: undefined,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: 'DEFAULT',
    cipherSuites: undefined,
  };

  it('changes with every setting that decides whether a backend is trusted', async () => {
    const digest = await backendTrustDigest(base);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await backendTrustDigest({ ...base })).toBe(digest);
    const variants: Partial<BackendTrustMaterial>[] = [
      { ca: ['-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n'] },
      { ca: [] },
      { crl: ['-----BEGIN X509 CRL-----\nC\n-----END X509 CRL-----\n'] },
      { verifyServer: false },
      { clientCert: 'cert', clientKey: 'key' },
      { clientCert: 'cert', clientKey: 'another key' },
      { psk: { identity: 'proxy', key: Buffer.alloc(32, 1) } },
      { psk: { identity: 'proxy', key: Buffer.alloc(32, 2) } },
      { psk: { identity: 'other', key: Buffer.alloc(32, 1) } },
      { minVersion: 'TLSv1.3' },
      { maxVersion: 'TLSv1.2' },
      { ciphers: 'HIGH' },
      { cipherSuites: 'TLS_AES_256_GCM_SHA384' },
    ];
    const digests = await Promise.all(variants.map((variant) => backendTrustDigest({ ...base, ...variant })));
    expect(new Set([digest, ...digests]).size).toBe(variants.length + 1);
    // A CA set is a set: the order of the files does not matter.
    const two = ['x', 'y'];
    expect(await backendTrustDigest({ ...base, ca: two })).toBe(
      await backendTrustDigest({ ...base, ca: [...two].reverse() }),
    );
  });

  it('includes the name the certificate must match', () => {
    const trust = 'f'.repeat(64);
    expect(backendSessionContext(trust, 'ftp.example.com')).not.toBe(
      backendSessionContext(trust, 'other.example.com'),
    );
    expect(backendSessionContext(trust, '127.0.0.1')).toBe(backendSessionContext(trust, '127.0.0.1'));
    expect(backendSessionContext(trust, '127.0.0.1')).not.toBe(
      backendSessionContext('e'.repeat(64), '127.0.0.1'),
    );
  });

  it('is read from file contents, not paths, and never shows a key', async () => {
    const copy = join(dir, 'same-ca.pem');
    await copyFile(ca.caCert, copy);
    const load = (settings: Record<string, unknown>) =>
      BackendTls.load(backendTlsSchema.parse(settings), 'pools[test].tls');
    const original = await load({ caFile: ca.caCert });
    // Another path to the same CA: one context (two pools configured alike share their sessions).
    expect((await load({ caFile: copy })).trustDigest).toBe(original.trustDigest);
    expect((await load({ caFile: other.caCert })).trustDigest).not.toBe(original.trustDigest);
    expect((await load({ caFile: ca.caCert, crlFile: ca.crl })).trustDigest).not.toBe(original.trustDigest);
    expect((await load({ caFile: ca.caCert, verifyServer: false })).trustDigest).not.toBe(
      original.trustDigest,
    );
    const withCert = await load({ caFile: ca.caCert, certFile: ca.client.cert, keyFile: ca.client.key });
    expect(withCert.trustDigest).not.toBe(original.trustDigest);
    const pskHex = 'ab'.repeat(32);
    const pskFile = join(dir, 'psk.hex');
    await writeFile(pskFile, pskHex);
    await chmod(pskFile, 0o600);
    const psk = await load({ caFile: ca.caCert, preSharedKey: { identity: 'proxy', key: `hex:${pskFile}` } });
    expect(psk.trustDigest).not.toBe(original.trustDigest);
    expect(psk.trustDigest).not.toContain(pskHex);
    expect(psk.sessionContext('127.0.0.1')).toMatch(/^[0-9a-f]{64}$/);
    expect(psk.sessionContext('127.0.0.1')).not.toBe(original.sessionContext('127.0.0.1'));
  });
});
