import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyAuthMethod, Client, type PasswordAuthMethod } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { type SshTarget, sftpBatch } from '../../support/ssh-clients.js';
import { HOSTBASED_HOSTNAME, makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

let sshd: Sshd;
let proxy: TestProxy;
let hostbasedProxy: TestProxy;
let keys: string;
let target: SshTarget;
let userKey: string;
let strangerKey: string;

/** ssh2 as a client of the proxy, answering keyboard-interactive prompts with `answer`. */
function keyboardInteractive(
  port: number,
  user: string,
  answer: string,
): Promise<{ ok: boolean; prompts: string[]; error?: string }> {
  return new Promise((resolve) => {
    const client = new Client();
    const prompts: string[] = [];
    client.on('keyboard-interactive', (_name, _instructions, _lang, asked, finish) => {
      prompts.push(...asked.map((prompt) => prompt.prompt));
      finish(asked.map(() => answer));
    });
    client.on('ready', () => {
      client.end();
      resolve({ ok: true, prompts });
    });
    client.on('error', (err) => resolve({ ok: false, prompts, error: err.message }));
    client.connect({
      host: '127.0.0.1',
      port,
      username: user,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      readyTimeout: 20_000,
    });
  });
}

const BANNER = 'Authorized use only: the backend speaks.';

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-keys-'));
  await writeFile(join(keys, 'banner.txt'), `${BANNER}\n`);
  sshd = await startSshd({ extraConfig: `Banner ${join(keys, 'banner.txt')}` });
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  // The client's own key, authorized at the proxy only; and one nobody authorized.
  await mkdir(join(keys, 'authorized'));
  userKey = join(keys, 'user_ed25519');
  await writeFile(join(keys, 'authorized', sshd.user.name), `${await makeKeyPair(userKey, 'ed25519')}\n`);
  strangerKey = join(keys, 'stranger_ecdsa');
  await makeKeyPair(strangerKey, 'ecdsa');
  // sshpiper's mapping key: the proxy's key for this user, authorized at the backend.
  await mkdir(join(keys, 'mapping'), { mode: 0o700 });
  await sshd.authorize(await makeKeyPair(join(keys, 'mapping', sshd.user.name), 'rsa'));
  // mod_proxy's hostbased key (ProxySFTPHostKey), trusted by the backend for the user.
  const hostbasedKey = join(keys, 'proxy_hostbased_ecdsa');
  await sshd.trustHostbased(await makeKeyPair(hostbasedKey, 'ecdsa'));
  const listener = {
    protocol: 'sftp',
    sftp: { hostKeys: [join(keys, 'host_ed25519')], authorizedUserKeys: join(keys, 'authorized', '%u') },
  };
  proxy = await startTestProxy({
    backends: [sshd.url],
    listener,
    poolSettings: { sftp: { mappingKeys: join(keys, 'mapping', '%u') } },
  });
  hostbasedProxy = await startTestProxy({
    backends: [sshd.url],
    listener,
    poolSettings: { sftp: { hostKeys: [hostbasedKey], hostbasedHostname: HOSTBASED_HOSTNAME } },
  });
  target = { host: proxy.host, port: proxy.port, user: sshd.user.name };
});

afterAll(async () => {
  await proxy?.close();
  await hostbasedProxy?.close();
  await sshd?.stop();
  await rm(keys, { recursive: true, force: true });
});

describe('SSH authentication through ftpx to OpenSSH sshd', () => {
  it('relays a password (sftp client, SSH_ASKPASS) and never logs it', async () => {
    const result = await sftpBatch(target, { password: sshd.user.password }, ['pwd']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Remote working directory: ${sshd.user.home}`);
    expect(proxy.logText()).not.toContain(sshd.user.password);
    expect(proxy.logs.some((line) => line.msg === 'login succeeded' && line.user === sshd.user.name)).toBe(
      true,
    );
  });

  it("passes the backend's banner (sshd Banner) to the client before authentication", async () => {
    const banners = await new Promise<string[]>((resolve, reject) => {
      const client = new Client();
      const seen: string[] = [];
      client.on('banner', (message) => seen.push(message));
      client.on('ready', () => {
        client.end();
        resolve(seen);
      });
      client.on('error', reject);
      client.connect({
        host: '127.0.0.1',
        port: proxy.port,
        username: sshd.user.name,
        password: sshd.user.password,
      });
    });
    expect(banners.join('')).toContain(BANNER);
  });

  it('refuses a wrong password, as the backend does', async () => {
    const result = await sftpBatch(target, { password: 'not-the-password' }, ['pwd']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Permission denied');
    expect(
      proxy.logs.some((line) => line.msg === 'login failed' && line.reason === 'backend refused password'),
    ).toBe(true);
  });

  it('relays a second password attempt on the same backend connection after a wrong one', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const client = new Client();
      client.on('ready', () => {
        client.end();
        resolve('ready');
      });
      client.on('error', (err) => resolve(err.message));
      client.connect({
        host: '127.0.0.1',
        port: proxy.port,
        username: sshd.user.name,
        authHandler: [
          { type: 'password', username: sshd.user.name, password: 'first-guess' },
          { type: 'password', username: sshd.user.name, password: sshd.user.password },
        ] as PasswordAuthMethod[],
        readyTimeout: 20_000,
      });
    });
    expect(outcome).toBe('ready');
    expect(await sshd.logMatching(/Failed password for ftpxssh/)).toMatch(/Failed password for ftpxssh/);
  });

  it('relays keyboard-interactive prompts (PAM) and answers', async () => {
    const result = await keyboardInteractive(proxy.port, sshd.user.name, sshd.user.password);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.prompts.join(' ')).toMatch(/password/i);
  });

  it('refuses a wrong keyboard-interactive answer', async () => {
    const result = await keyboardInteractive(proxy.port, sshd.user.name, 'wrong');
    expect(result.ok).toBe(false);
    expect(result.prompts.length).toBeGreaterThan(0);
  });

  it('verifies a client key itself, then logs in to the backend with the mapping key', async () => {
    const result = await sftpBatch(target, { identity: userKey }, ['pwd']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Remote working directory');
    const log = await sshd.log();
    expect(log).toMatch(/Accepted publickey for ftpxssh .* RSA/);
  });

  it('refuses a client key that is not authorized for the user', async () => {
    const result = await sftpBatch(target, { identity: strangerKey }, ['pwd']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Permission denied');
    expect(
      proxy.logs.some((line) => line.msg === 'login failed' && line.reason === 'public key not authorized'),
    ).toBe(true);
  });

  it('logs in to the backend with hostbased authentication (ProxySFTPHostKey) for a verified client key', async () => {
    const result = await sftpBatch({ ...target, port: hostbasedProxy.port }, { identity: userKey }, ['pwd']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sshd.log()).toMatch(/Accepted hostbased for ftpxssh/);
  });

  it('refuses a verified key when the backend does not trust the proxy for that user', async () => {
    // A user the proxy knows (its key is authorized there) but sshd refuses (AllowUsers).
    await copyFile(join(keys, 'authorized', sshd.user.name), join(keys, 'authorized', 'nobody'));
    const result = await sftpBatch(
      { ...target, port: hostbasedProxy.port, user: 'nobody' },
      { identity: userKey },
      ['pwd'],
    );
    expect(result.code).not.toBe(0);
    expect(
      hostbasedProxy.logs.some(
        (line) => line.msg === 'backend refused the proxy login for a verified public key',
      ),
    ).toBe(true);
  });
});

describe('partial success (backend AuthenticationMethods chains)', () => {
  it('passes partial success on, so the client continues with the next method', async () => {
    const chained = await startSshd({ extraConfig: 'AuthenticationMethods password,keyboard-interactive' });
    const chainProxy = await startTestProxy({
      backends: [chained.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } },
    });
    try {
      const steps: string[] = [];
      const outcome = await new Promise<string>((resolve) => {
        const client = new Client();
        client.on('ready', () => {
          client.end();
          resolve('ready');
        });
        client.on('error', (err) => resolve(err.message));
        client.connect({
          host: '127.0.0.1',
          port: chainProxy.port,
          username: chained.user.name,
          authHandler: (methodsLeft, partialSuccess, next) => {
            if (methodsLeft === null) {
              steps.push('password');
              next({ type: 'password', username: chained.user.name, password: chained.user.password });
            } else if (partialSuccess && methodsLeft.includes('keyboard-interactive')) {
              next({
                type: 'keyboard-interactive',
                username: chained.user.name,
                prompt: (_name, _instructions, _lang, prompts, finish) => {
                  steps.push('keyboard-interactive');
                  finish(prompts.map(() => chained.user.password));
                },
              });
            } else {
              next(false as unknown as AnyAuthMethod);
            }
          },
          readyTimeout: 20_000,
        });
      });
      expect(outcome).toBe('ready');
      expect(steps).toEqual(['password', 'keyboard-interactive']);
      const log = await chained.logMatching(/Accepted keyboard-interactive/);
      expect(log).toMatch(/Partial password for ftpxssh/);
      expect(log).toMatch(/Accepted keyboard-interactive\/pam for ftpxssh/);
    } finally {
      await chainProxy.close();
      await chained.stop();
    }
  });
});
