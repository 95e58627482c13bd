import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaproxyRelay, startHaproxyRelay } from '../../support/haproxy.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

// ProxyOptions UseProxyProtocolV1/V2 on a pool of sftp:// backends: the header naming the real
// client goes to the SSH backend before SSH's identification. OpenSSH's sshd does not read it, so the
// backend here is haproxy with `accept-proxy` in front of sshd, which logs the client it was told.

let keys: string;
let sshd: Sshd;
const proxies: TestProxy[] = [];
const relays: HaproxyRelay[] = [];

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-pp-'));
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  sshd = await startSshd();
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(relays.map((relay) => relay.stop()));
  await sshd?.stop();
  await rm(keys, { recursive: true, force: true });
});

async function clientsSeenBy(relay: HaproxyRelay, prefix: string): Promise<string[]> {
  const deadline = Date.now() + 5000;
  let log: string[] = [];
  while (Date.now() < deadline) {
    log = await relay.connectionLog();
    if (log.some((line) => line.startsWith(prefix))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return log;
}

describe('PROXY protocol towards SSH backends', () => {
  for (const [version, from] of [
    ['v1', '127.0.0.9'],
    ['v2', '127.0.0.10'],
    ['v2-tlvs', '127.0.0.11'],
  ] as const) {
    it(`sends a ${version} header before SSH, naming the real client`, async () => {
      const relay = await startHaproxyRelay({
        target: { host: sshd.host, port: sshd.port },
        acceptProxy: true,
      });
      relays.push(relay);
      const proxy = await startTestProxy({
        backends: [`sftp://127.0.0.1:${relay.port}`],
        listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } },
        poolSettings: { sendProxyProtocol: version },
      });
      proxies.push(proxy);
      const result = await sftpBatch(
        { host: proxy.host, port: proxy.port, user: sshd.user.name },
        { password: sshd.user.password },
        ['pwd'],
        { extraOptions: ['-o', `BindAddress=${from}`] },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Remote working directory:');
      expect(await clientsSeenBy(relay, `client=${from}:`)).toContainEqual(
        expect.stringMatching(new RegExp(`^client=${from.replace(/\./g, '\\.')}:\\d+$`)),
      );
    });
  }

  it('fails the backend connection cleanly when the backend does not read the header (sshd itself)', async () => {
    const proxy = await startTestProxy({
      backends: [sshd.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } },
      poolSettings: { sendProxyProtocol: 'v1' },
    });
    proxies.push(proxy);
    const result = await sftpBatch(
      { host: proxy.host, port: proxy.port, user: sshd.user.name },
      { password: sshd.user.password },
      ['pwd'],
    );
    expect(result.code).not.toBe(0);
    expect(
      proxy.logs.some((line) => line.msg === 'no backend' || line.msg === 'login failed: no backend'),
    ).toBe(true);
    // sshd saw a line that is not an SSH identification.
    expect(await sshd.logMatching(/invalid format|Bad protocol version|banner exchange/i)).toMatch(
      /invalid format|Bad protocol version|banner exchange/i,
    );
  });
});
