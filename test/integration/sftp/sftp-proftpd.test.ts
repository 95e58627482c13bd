import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomFile, sha256File } from '../../support/files.js';
import { type ProftpdSftp, startProftpdSftp } from '../../support/proftpd-sftp.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { type SshTarget, sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair } from '../../support/sshd.js';

let backend: ProftpdSftp;
let proxy: TestProxy;
let keys: string;
let target: SshTarget;
let userKey: string;

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-proftpd-sftp-keys-'));
  await makeKeyPair(join(keys, 'host'), 'ed25519');
  // mod_proxy's way: the proxy's hostbased key, trusted by mod_sftp (SFTPAuthorizedHostKeys).
  const hostbasedKey = join(keys, 'proxy_hostbased');
  await makeKeyPair(hostbasedKey, 'ecdsa');
  backend = await startProftpdSftp({ trustedHostKeys: [`${hostbasedKey}.pub`] });
  userKey = join(keys, 'user');
  const { writeFile, mkdir } = await import('node:fs/promises');
  await mkdir(join(keys, 'authorized'));
  await writeFile(join(keys, 'authorized', backend.user), `${await makeKeyPair(userKey, 'ed25519')}\n`);
  proxy = await startTestProxy({
    backends: [backend.url],
    listener: {
      protocol: 'sftp',
      sftp: { hostKeys: [join(keys, 'host')], authorizedUserKeys: join(keys, 'authorized', '%u') },
    },
    poolSettings: { sftp: { hostKeys: [hostbasedKey] } },
  });
  target = { host: proxy.host, port: proxy.port, user: backend.user };
});

afterAll(async () => {
  await proxy?.close();
  await backend?.stop();
  await rm(keys, { recursive: true, force: true });
});

describe('SFTP through ftpx to ProFTPD mod_sftp', () => {
  it('relays a password login and transfers a file both ways intact', async () => {
    const local = join(keys, 'up.bin');
    const sum = await makeRandomFile(local, 4 * 1024 * 1024);
    const back = join(keys, 'down.bin');
    const result = await sftpBatch(target, { password: backend.password }, [
      `put ${local} /up.bin`,
      `get /up.bin ${back}`,
      'ls -l /',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sha256File(join(backend.homeDir, 'up.bin'))).toBe(sum);
    expect(await sha256File(back)).toBe(sum);
    expect(await backend.log()).toContain("user 'ftpx' authenticated via 'password' method");
  });

  it('logs a verified client key in with hostbased authentication (SFTPAuthorizedHostKeys)', async () => {
    const result = await sftpBatch(target, { identity: userKey }, ['pwd']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await backend.log()).toContain("user 'ftpx' authenticated via 'hostbased' method");
  });
});
