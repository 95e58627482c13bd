import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../support/password-hash.js';
import { freePort } from '../../support/ports.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

let a: Sshd;
let b: Sshd;
let dir: string;
let hostKey: string;
const proxies: TestProxy[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startSshd(), startSshd()]);
  dir = await mkdtemp(join(tmpdir(), 'ftpx-sftp-policies-'));
  hostKey = join(dir, 'host');
  await makeKeyPair(hostKey, 'ed25519');
  // Proxy users (AuthUserFile): alice, group "blue".
  await writeFile(
    join(dir, 'ftpd.passwd'),
    `alice:${await sha512Crypt('alice-pw')}:5001:6001::/home/alice:/bin/sh\n`,
  );
  await writeFile(join(dir, 'ftpd.group'), 'blue:x:6001:alice\n');
});

afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function proxyWith(
  backends: string[],
  poolSettings: Record<string, unknown> = {},
  sftp: Record<string, unknown> = {},
) {
  const proxy = await startTestProxy({
    backends,
    listener: { protocol: 'sftp', sftp: { hostKeys: [hostKey], ...sftp } },
    poolSettings,
  });
  proxies.push(proxy);
  return proxy;
}

const login = (proxy: TestProxy, user: string, password: string, commands = ['pwd']) =>
  sftpBatch({ host: proxy.host, port: proxy.port, user }, { password }, commands);

const connectedBackends = (proxy: TestProxy) =>
  proxy.logs.filter((line) => line.msg === 'connected to backend').map((line) => line.backend);

describe('connect policies and retries for SFTP', () => {
  it('skips an unreachable backend (ProxyRetryCount) and balances RoundRobin over the others', async () => {
    const dead = `sftp://127.0.0.1:${await freePort()}`;
    const proxy = await proxyWith([dead, a.url, b.url], { retryCount: 3 });
    for (let i = 0; i < 3; i++) {
      const result = await login(proxy, a.user.name, a.user.password);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
    expect(new Set(connectedBackends(proxy))).toEqual(new Set([a.url, b.url]));
    expect(proxy.logs.some((line) => line.msg === 'backend connect failed' && line.backend === dead)).toBe(
      true,
    );
  });

  it('gives up after retryCount failed attempts', async () => {
    const proxy = await proxyWith([`sftp://127.0.0.1:${await freePort()}`], { retryCount: 1 });
    const result = await login(proxy, a.user.name, a.user.password);
    expect(result.code).not.toBe(0);
    expect(proxy.logs.some((line) => line.msg === 'no backend')).toBe(true);
  });

  it('PerUser keeps a user on one backend, chosen at authentication', async () => {
    const proxy = await proxyWith([a.url, b.url], { connectPolicy: 'PerUser' });
    for (let i = 0; i < 3; i++) expect((await login(proxy, a.user.name, a.user.password)).code).toBe(0);
    expect(new Set(connectedBackends(proxy)).size).toBe(1);
  });

  it('UseReverseProxyAuth: the proxy checks its own user, PerGroup picks by group, URL credentials log in', async () => {
    const url = (sshd: Sshd) => `sftp://${sshd.user.name}:${sshd.user.password}@127.0.0.1:${sshd.port}`;
    const proxy = await proxyWith([url(a), url(b)], {
      connectPolicy: 'PerGroup',
      proxyAuth: true,
      authUserFile: join(dir, 'ftpd.passwd'),
      authGroupFile: join(dir, 'ftpd.group'),
    });
    const ok = await login(proxy, 'alice', 'alice-pw');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Remote working directory: ${a.user.home}`);
    const wrong = await login(proxy, 'alice', a.user.password);
    expect(wrong.code).not.toBe(0);
    // The refused attempt never reached a backend.
    expect(connectedBackends(proxy)).toHaveLength(1);
    expect(proxy.logText()).not.toContain('alice-pw');
    expect(proxy.logText()).not.toContain(a.user.password);
  });
});

describe('timeouts', () => {
  it('ends a session whose client stays silent for timeouts.idle (TimeoutIdle)', async () => {
    const proxy = await startTestProxy({
      backends: [a.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [hostKey] }, timeouts: { idle: '1s' } },
    });
    proxies.push(proxy);
    const ended = await new Promise<number>((resolve, reject) => {
      const { Client } = ssh2;
      const client = new Client();
      let readyAt = 0;
      client.on('ready', () => {
        readyAt = Date.now();
      });
      client.on('close', () => resolve(Date.now() - readyAt));
      client.on('error', (err) => (readyAt ? undefined : reject(err)));
      client.connect({
        host: '127.0.0.1',
        port: proxy.port,
        username: a.user.name,
        password: a.user.password,
      });
    });
    expect(ended).toBeGreaterThanOrEqual(900);
    expect(ended).toBeLessThan(5000);
    expect(
      proxy.logs.some(
        (line) => line.msg === 'session ending' && line.reason === 'idle timeout (TimeoutIdle)',
      ),
    ).toBe(true);
  });
});

describe('encrypted host keys', () => {
  it('decrypts them with a passphrase provider program (ProFTPD arguments) or env:', async () => {
    const encrypted = join(dir, 'host_encrypted');
    await makeKeyPair(encrypted, 'ecdsa', 'key-secret');
    const program = join(dir, 'passphrase.sh');
    await writeFile(program, `#!/bin/sh\necho "$@" > ${join(dir, 'provider-args')}\necho key-secret\n`);
    await chmod(program, 0o700);
    const viaProgram = await startTestProxy({
      backends: [a.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [encrypted], passPhraseProvider: program } },
    });
    proxies.push(viaProgram);
    expect((await login(viaProgram, a.user.name, a.user.password)).code).toBe(0);
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(dir, 'provider-args'), 'utf8')).trim()).toBe(`127.0.0.1:0 ${encrypted}`);

    process.env.FTPX_TEST_KEY_PASSPHRASE = 'key-secret';
    const viaEnv = await startTestProxy({
      backends: [a.url],
      listener: {
        protocol: 'sftp',
        sftp: { hostKeys: [encrypted], passPhraseProvider: 'env:FTPX_TEST_KEY_PASSPHRASE' },
      },
    });
    proxies.push(viaEnv);
    expect((await login(viaEnv, a.user.name, a.user.password)).code).toBe(0);
  });

  it('refuses to start with a wrong passphrase or a key readable by others', async () => {
    const encrypted = join(dir, 'host_encrypted2');
    await makeKeyPair(encrypted, 'ed25519', 'right');
    process.env.FTPX_TEST_WRONG_PASSPHRASE = 'wrong';
    await expect(
      startTestProxy({
        backends: [a.url],
        listener: {
          protocol: 'sftp',
          sftp: { hostKeys: [encrypted], passPhraseProvider: 'env:FTPX_TEST_WRONG_PASSPHRASE' },
        },
      }),
    ).rejects.toThrow(/wrong passphrase/);
    const open = join(dir, 'host_open');
    await makeKeyPair(open, 'ed25519');
    await chmod(open, 0o644);
    await expect(
      startTestProxy({ backends: [a.url], listener: { protocol: 'sftp', sftp: { hostKeys: [open] } } }),
    ).rejects.toThrow(/accessible by group or others/);
  });
});
