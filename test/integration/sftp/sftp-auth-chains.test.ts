import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { type SshTarget, sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

// SFTPAuthMethods chains (`publickey+password`): the client must pass both methods, in that order,
// with partial success after the first, through ftpx to a backend that requires the same chain
// (sshd AuthenticationMethods publickey,password) and to one that takes a password alone.

let keys: string;
let chained: Sshd;
let plain: Sshd;
let toChained: TestProxy;
let toPlain: TestProxy;
let toPlainWithMapping: TestProxy;
let userKey: string;

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-chains-'));
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  chained = await startSshd({ extraConfig: 'AuthenticationMethods publickey,password' });
  plain = await startSshd();
  await mkdir(join(keys, 'authorized'));
  userKey = join(keys, 'user_ed25519');
  await writeFile(join(keys, 'authorized', chained.user.name), `${await makeKeyPair(userKey, 'ed25519')}\n`);
  // The proxy's key for the user at the chained backend (its publickey step).
  await mkdir(join(keys, 'mapping'), { mode: 0o700 });
  await chained.authorize(await makeKeyPair(join(keys, 'mapping', chained.user.name), 'ed25519'));
  const listener = {
    protocol: 'sftp',
    sftp: {
      hostKeys: [join(keys, 'host_ed25519')],
      authMethods: ['publickey+password'],
      authorizedUserKeys: join(keys, 'authorized', '%u'),
    },
  };
  toChained = await startTestProxy({
    backends: [chained.url],
    listener,
    poolSettings: { sftp: { mappingKeys: join(keys, 'mapping', '%u') } },
  });
  toPlain = await startTestProxy({ backends: [plain.url], listener });
  await plain.authorize(await makeKeyPair(join(keys, 'mapping', `${plain.user.name}.plain`), 'ed25519'));
  await mkdir(join(keys, 'mapping-plain'), { mode: 0o700 });
  await rename(
    join(keys, 'mapping', `${plain.user.name}.plain`),
    join(keys, 'mapping-plain', plain.user.name),
  );
  toPlainWithMapping = await startTestProxy({
    backends: [plain.url],
    listener,
    poolSettings: { sftp: { mappingKeys: join(keys, 'mapping-plain', '%u') } },
  });
});

afterAll(async () => {
  await toChained?.close();
  await toPlain?.close();
  await toPlainWithMapping?.close();
  await chained?.stop();
  await plain?.stop();
  await rm(keys, { recursive: true, force: true });
});

const targetOf = (proxy: TestProxy, sshd: Sshd): SshTarget => ({
  host: proxy.host,
  port: proxy.port,
  user: sshd.user.name,
});

describe('SFTPAuthMethods publickey+password through ftpx', () => {
  it('logs OpenSSH sftp in after both steps, relayed to a backend requiring the same chain', async () => {
    const result = await sftpBatch(
      targetOf(toChained, chained),
      { identity: userKey, password: chained.user.password, methods: 'publickey,password' },
      ['pwd'],
      { logLevel: 'DEBUG1' },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Authenticated using "publickey" with partial success.');
    expect(result.stdout).toContain('Remote working directory:');
    const log = await chained.logMatching(/Accepted password/);
    expect(log).toMatch(/Partial publickey for ftpxssh/);
    expect(log).toMatch(/Accepted password for ftpxssh/);
    expect(toChained.logText()).not.toContain(chained.user.password);
  });

  it('refuses the key alone: partial success, then only password is left', async () => {
    const result = await sftpBatch(targetOf(toChained, chained), { identity: userKey }, ['pwd'], {
      logLevel: 'DEBUG1',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Authenticated using "publickey" with partial success.');
    expect(result.stderr).toMatch(/Permission denied \(password\)/);
  });

  it('refuses a password alone: the client is told publickey comes first, the backend never gets it', async () => {
    const before = (await chained.log()).split('password for').length;
    const result = await sftpBatch(targetOf(toChained, chained), { password: chained.user.password }, [
      'pwd',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
    expect((await chained.log()).split('password for').length).toBe(before);
  });

  it('refuses a wrong password in the second step', async () => {
    const result = await sftpBatch(
      targetOf(toChained, chained),
      { identity: userKey, password: 'not-the-password', methods: 'publickey,password' },
      ['pwd'],
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
    expect(await chained.logMatching(/Failed password/)).toMatch(/Failed password for ftpxssh/);
  });

  it('checks the key itself and relays the password to a backend that needs only the password', async () => {
    const result = await sftpBatch(
      targetOf(toPlain, plain),
      { identity: userKey, password: plain.user.password, methods: 'publickey,password' },
      ['pwd'],
      { logLevel: 'DEBUG1' },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Authenticated using "publickey" with partial success.');
    const log = await plain.logMatching(/Accepted password/);
    expect(log).toMatch(/Accepted password for ftpxssh/);
    // The backend saw no key login: the proxy checked the key (no mapping key, no ProxySFTPHostKey).
    expect(log).not.toMatch(/Accepted publickey|Partial publickey/);
  });

  it('refuses the chain when the backend takes the key login alone: nobody could check the password', async () => {
    const result = await sftpBatch(
      targetOf(toPlainWithMapping, plain),
      { identity: userKey, password: 'anything', methods: 'publickey,password' },
      ['pwd'],
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
    expect(
      toPlainWithMapping.logs.some(
        (line) =>
          line.msg === 'login failed' &&
          line.reason === 'password cannot be checked after the backend accepted the login',
      ),
    ).toBe(true);
  });
});
