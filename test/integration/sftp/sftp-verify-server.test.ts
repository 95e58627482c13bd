import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

const MODES = ['off', 'on', 'enforce'] as const;

let sshd: Sshd;
let keys: string;
const proxies = new Map<(typeof MODES)[number], TestProxy>();

beforeAll(async () => {
  sshd = await startSshd();
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-verify-'));
  await makeKeyPair(join(keys, 'host'), 'ed25519');
  for (const mode of MODES) {
    proxies.set(
      mode,
      await startTestProxy({
        backends: [sshd.url],
        listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host')] } },
        poolSettings: { sftp: { verifyServer: mode } },
      }),
    );
  }
});

afterAll(async () => {
  for (const proxy of proxies.values()) await proxy.close();
  await sshd?.stop();
  await rm(keys, { recursive: true, force: true });
});

function login(proxy: TestProxy) {
  return sftpBatch(
    { host: proxy.host, port: proxy.port, user: sshd.user.name },
    { password: sshd.user.password },
    ['pwd'],
  );
}

const proxyFor = (mode: (typeof MODES)[number]) => proxies.get(mode) as TestProxy;

describe('ProxySFTPVerifyServer', () => {
  it('stores the backend host key on first use, in every mode', async () => {
    for (const mode of MODES) {
      const result = await login(proxyFor(mode));
      expect(result.code).toBe(0);
      expect(proxyFor(mode).logs.some((line) => line.msg === 'backend host key stored (first use)')).toBe(
        true,
      );
    }
  });

  it('after the backend changed its host key: off replaces it (logged as a warning), on and enforce refuse', async () => {
    await sshd.restart({ newHostKeys: true });
    const off = await login(proxyFor('off'));
    expect(off.code).toBe(0);
    expect(
      proxyFor('off').logs.some(
        (line) =>
          line.msg === 'backend host key changed and replaced (ProxySFTPVerifyServer off)' &&
          line.level === 'warn',
      ),
    ).toBe(true);

    for (const mode of ['on', 'enforce'] as const) {
      const succeeded = () => proxyFor(mode).logs.filter((line) => line.msg === 'login succeeded').length;
      const before = succeeded();
      const refused = await login(proxyFor(mode));
      expect(refused.code, mode).not.toBe(0);
      expect(
        proxyFor(mode).logs.some(
          (line) =>
            line.msg === 'backend host key mismatch: connection refused' && line.verifyServer === mode,
        ),
        mode,
      ).toBe(true);
      expect(succeeded(), mode).toBe(before);
    }
  });

  it('keeps the keys in the store: another worker on the same store refuses the changed key too', async () => {
    const enforcing = proxyFor('enforce');
    const other = await startTestProxy({
      backends: [sshd.url],
      storeEndpoint: enforcing.worker.storeEndpoint,
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host')] } },
      poolSettings: { sftp: { verifyServer: 'enforce' } },
    });
    try {
      const result = await login(other);
      expect(result.code).not.toBe(0);
      expect(other.logs.some((line) => line.msg === 'backend host key stored (first use)')).toBe(false);
      expect(other.logs.some((line) => line.msg === 'backend host key mismatch: connection refused')).toBe(
        true,
      );
    } finally {
      await other.close();
    }
  });

  it('off: the replaced key is the one checked next time', async () => {
    const again = await login(proxyFor('off'));
    expect(again.code).toBe(0);
    const replaced = proxyFor('off').logs.filter((line) =>
      String(line.msg).startsWith('backend host key changed'),
    );
    expect(replaced).toHaveLength(1);
  });
});

describe('pinned backend host keys (registration API)', () => {
  it('refuses a backend whose key differs from the pinned one, even with verifyServer off', async () => {
    const { startRegistry } = await import('../registry/api-client.js');
    const { readFile } = await import('node:fs/promises');
    const registry = await startRegistry('ftpx');
    const proxy = await startTestProxy({
      backends: [sshd.url],
      storeEndpoint: registry.store.endpoint,
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host')] } },
      poolSettings: { sftp: { verifyServer: 'off' } },
    });
    try {
      const stranger = (await readFile(`${join(keys, 'host')}.pub`, 'utf8')).trim();
      const pin = (key: string) =>
        registry.call('PUT', '/v1/pools/test/ssh-host-keys', { json: { backend: sshd.url, key } });
      const wrongPin = await pin(stranger);
      expect(wrongPin.status).toBe(200);
      expect(wrongPin.body).toEqual({
        backend: sshd.url,
        key: stranger.split(' ').slice(0, 2).join(' '),
        pinned: true,
      });
      expect((await login(proxy)).code).not.toBe(0);
      expect(
        proxy.logs.some(
          (line) => line.msg === 'backend host key mismatch: connection refused' && line.pinned === true,
        ),
      ).toBe(true);

      expect((await pin(await sshd.hostKey())).status).toBe(200);
      expect((await login(proxy)).code).toBe(0);
      // verifyServer off never replaces a pinned key.
      expect(proxy.logs.some((line) => String(line.msg).startsWith('backend host key changed'))).toBe(false);

      const bad = await registry.call('PUT', '/v1/pools/test/ssh-host-keys', {
        json: { backend: 'ftp://h', key: 'x' },
      });
      expect(bad.status).toBe(400);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });
});
