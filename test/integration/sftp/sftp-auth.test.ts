import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { type SshTarget, sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

let sshd: Sshd;
let proxy: TestProxy;
let keys: string;
let target: SshTarget;

beforeAll(async () => {
  sshd = await startSshd();
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-keys-'));
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  proxy = await startTestProxy({
    backends: [sshd.url],
    listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } },
  });
  target = { host: proxy.host, port: proxy.port, user: sshd.user.name };
});

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  await rm(keys, { recursive: true, force: true });
});

describe('SFTP through ftpx to OpenSSH sshd', () => {
  it('logs in with a relayed password and lists a directory', async () => {
    const result = await sftpBatch(target, { password: sshd.user.password }, [
      `ls -la ${sshd.dataDir}`,
      'pwd',
    ]);
    if (result.code !== 0) console.log(proxy.logText(), await sshd.log());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Remote working directory: /var/lib/ftpxssh');
  });
});
