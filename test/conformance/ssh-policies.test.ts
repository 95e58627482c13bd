import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netSsh2 } from '../support/net-ssh2.js';
import { sha512Crypt } from '../support/password-hash.js';
import { type ProftpdSftp, startProftpdSftp } from '../support/proftpd-sftp.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type SshTarget, sftpBatch } from '../support/ssh-clients.js';
import { makeKeyPair } from '../support/sshd.js';
import { ConformanceTable, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's SSH connect-policy scenarios (proxy_reverse_backend_ssh_connect_policy_* in
 * t/lib/ProFTPD/Tests/Modules/mod_proxy/ssh.pm of https://github.com/Castaglia/proftpd-mod_proxy): two
 * ProFTPD mod_sftp backends ("Real Server", "Other Server"), three logins in a row through ftpx, each
 * with an SFTP STAT, as the suite does: Net::SSH2 for password logins, OpenSSH's sftp for the
 * public-key one (the Net::SSH2 driver here logs in by password only). Beyond the suite's checks, the
 * backend each session reached is read from ftpx's log: the policy's choice must hold for all three.
 */
const AWAITING_FIX: Unrun[] = [];
const DIFFERS: Unrun[] = [];
const LEFT_OUT: Unrun[] = [];

describe('mod_proxy conformance: SSH connect policies', () => {
  const table = new ConformanceTable('SSH (connect policies)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let work: string;
  let frontKey: string;
  let hostbasedKey: string;
  let clientKey: string;
  let real: ProftpdSftp;
  let other: ProftpdSftp;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ftpx-conformance-ssh-policies-'));
    frontKey = join(work, 'front_host');
    hostbasedKey = join(work, 'proxy_hostbased');
    clientKey = join(work, 'client');
    await Promise.all([makeKeyPair(frontKey, 'ed25519'), makeKeyPair(hostbasedKey, 'ecdsa')]);
    // The backends trust the proxy's host key (SFTPAuthorizedHostKeys): the public-key scenario's
    // backend login is hostbased, with ProxySFTPHostKey.
    [real, other] = await Promise.all([
      startProftpdSftp({ trustedHostKeys: [`${hostbasedKey}.pub`] }),
      startProftpdSftp({ trustedHostKeys: [`${hostbasedKey}.pub`] }),
    ]);
    // The suite stats proxy.conf in the user's home: both backends have it.
    for (const backend of [real, other])
      await writeFile(join(backend.homeDir, 'proxy.conf'), 'ProxyEngine on\n');
    await mkdir(join(work, 'authorized'));
    await writeFile(join(work, 'authorized', real.user), `${await makeKeyPair(clientKey, 'ed25519')}\n`);
    // The proxy's own users (UseReverseProxyAuth): the backends' account, in group ftpd.
    await writeFile(
      join(work, 'proxy.passwd'),
      `${real.user}:${await sha512Crypt(real.password)}:500:500::${work}:/bin/sh\n`,
      { mode: 0o600 },
    );
    await writeFile(join(work, 'proxy.group'), `ftpd:x:500:${real.user}\n`);
    // connect_policy_per_user_by_json: the user's own list names the other server only.
    await writeFile(join(work, `${real.user}-servers.json`), `[ "${other.url}" ]\n`);
  }, 60_000);

  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await Promise.all([real?.stop(), other?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function proxyWith(pool: Record<string, unknown>, backends = [real.url, other.url]) {
    const proxy = await startTestProxy({
      backends,
      listener: {
        protocol: 'sftp',
        sftp: { hostKeys: [frontKey], authorizedUserKeys: join(work, 'authorized', '%u') },
      },
      // As the suite's: ProxySFTPCiphers aes256-ctr, ProxySFTPDigests hmac-sha1.
      poolSettings: {
        ...pool,
        sftp: { ciphers: ['aes256-ctr'], digests: ['hmac-sha1'], ...(pool.sftp ?? {}) },
      },
    });
    proxies.push(proxy);
    return proxy;
  }

  const target = (proxy: TestProxy): SshTarget => ({ host: proxy.host, port: proxy.port, user: real.user });
  const backendsReached = (proxy: TestProxy) =>
    proxy.logs.filter((line) => line.msg === 'connected to backend').map((line) => line.backend);
  const proxyAuth = () => ({
    proxyAuth: true,
    authUserFile: join(work, 'proxy.passwd'),
    authGroupFile: join(work, 'proxy.group'),
  });

  /** The suite's loop: three Net::SSH2 password logins, each with an SFTP STAT of proxy.conf. */
  async function threePasswordLogins(proxy: TestProxy): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const result = await netSsh2(target(proxy), real.password, 'stat', 'proxy.conf');
      expect(result, `login ${i + 1}`).toMatchObject({ ok: 1, size: 'ProxyEngine on\n'.length });
    }
  }

  describe('password logins (Net::SSH2)', () => {
    for (const [name, pool] of [
      ['connect_policy_per_host', () => ({ connectPolicy: 'PerHost' })],
      ['connect_policy_per_user', () => ({ connectPolicy: 'PerUser', sftp: { hostKeys: [hostbasedKey] } })],
      [
        'connect_policy_per_group_password_auth',
        () => ({ connectPolicy: 'PerGroup', sftp: { hostKeys: [hostbasedKey] }, ...proxyAuth() }),
      ],
    ] as const) {
      table.scenario(
        name,
        async () => {
          const proxy = await proxyWith(pool());
          await threePasswordLogins(proxy);
          const reached = backendsReached(proxy);
          expect(reached).toHaveLength(3);
          // The policy's choice holds: the same backend every time.
          expect(new Set(reached).size).toBe(1);
        },
        120_000,
      );
    }

    table.scenario(
      'connect_policy_per_user_by_json',
      async () => {
        const proxy = await proxyWith({ connectPolicy: 'PerUser', sftp: { hostKeys: [hostbasedKey] } }, [
          real.url,
          other.url,
          `file:${join(work, '%U-servers.json')}`,
        ]);
        await threePasswordLogins(proxy);
        expect(backendsReached(proxy)).toEqual([other.url, other.url, other.url]);
      },
      120_000,
    );
  });

  describe('public-key login (OpenSSH sftp)', () => {
    table.scenario(
      'connect_policy_per_group_publickey_auth',
      async () => {
        const proxy = await proxyWith({
          connectPolicy: 'PerGroup',
          sftp: { hostKeys: [hostbasedKey] },
          ...proxyAuth(),
        });
        for (let i = 0; i < 3; i++) {
          const result = await sftpBatch(target(proxy), { identity: clientKey }, ['ls -l proxy.conf']);
          expect(result.code, result.stderr).toBe(0);
          expect(result.stdout).toContain('proxy.conf');
        }
        const reached = backendsReached(proxy);
        expect(reached).toHaveLength(3);
        expect(new Set(reached).size).toBe(1);
        // The backend login was hostbased, with the proxy's key.
        expect(await (reached[0] === real.url ? real : other).log()).toContain(
          "authenticated via 'hostbased' method",
        );
      },
      120_000,
    );

    // ftpx's own check beside the scenario: the group lookup follows a verified key only. A key
    // neither the authorized-keys file nor the control plane knows, for the same user, is refused
    // before any backend is chosen.
    it('PerGroup with proxy auth: an unknown key for the same user is refused and reaches no backend', async () => {
      const strangerKey = join(work, 'stranger');
      await makeKeyPair(strangerKey, 'ed25519');
      const proxy = await proxyWith({
        connectPolicy: 'PerGroup',
        sftp: { hostKeys: [hostbasedKey] },
        ...proxyAuth(),
      });
      const result = await sftpBatch(target(proxy), { identity: strangerKey }, ['ls -l proxy.conf']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('Permission denied');
      expect(result.stdout).not.toContain('proxy.conf');
      expect(proxy.logs.filter((line) => line.backend !== undefined)).toEqual([]);
      expect(
        proxy.logs.some((line) => line.msg === 'login failed' && line.reason === 'public key not authorized'),
      ).toBe(true);
    }, 120_000);
  });
});
