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

  it('after the backend changed its host key: off replaces it, on logs it, enforce refuses', async () => {
    await sshd.restart({ newHostKeys: true });
    const off = await login(proxyFor('off'));
    expect(off.code).toBe(0);
    expect(
      proxyFor('off').logs.some(
        (line) => line.msg === 'backend host key changed and replaced (ProxySFTPVerifyServer off)',
      ),
    ).toBe(true);

    const on = await login(proxyFor('on'));
    expect(on.code).toBe(0);
    expect(
      proxyFor('on').logs.some(
        (line) =>
          line.msg === 'backend host key mismatch (ProxySFTPVerifyServer on: logged only)' &&
          line.level === 'warn',
      ),
    ).toBe(true);

    const succeeded = () => proxyFor('enforce').logs.filter((line) => line.msg === 'login succeeded').length;
    const before = succeeded();
    const enforce = await login(proxyFor('enforce'));
    expect(enforce.code).not.toBe(0);
    expect(
      proxyFor('enforce').logs.some((line) => line.msg === 'backend host key mismatch: connection refused'),
    ).toBe(true);
    expect(succeeded()).toBe(before);
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
