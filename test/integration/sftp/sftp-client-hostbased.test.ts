import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomFile, sha256File } from '../../support/files.js';
import { type ProftpdSftp, startProftpdSftp } from '../../support/proftpd-sftp.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { enableSshKeysign, type SshTarget, sftpBatch } from '../../support/ssh-clients.js';
import { HOSTBASED_HOSTNAME, makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

// Clients logging in with hostbased authentication (OpenSSH's `HostbasedAuthentication yes`,
// signing with this machine's host key through ssh-keysign): ftpx checks the client host's key
// (SFTPAuthorizedHostKeys) and signature, then logs in to the backend with its own hostbased key
// (ProxySFTPHostKey), as mod_proxy does.

let keys: string;
let sshd: Sshd;
let modSftp: ProftpdSftp;
let toSshd: TestProxy;
let toModSftp: TestProxy;
let withoutHostKeys: TestProxy;

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-hostbased-'));
  const machineKey = await enableSshKeysign();
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  // The client hosts ftpx trusts: this machine (the OpenSSH client's ssh-keysign signs with its key).
  await writeFile(join(keys, 'authorized_host_keys'), `# this machine\n${machineKey}\n`);
  const proxyKey = join(keys, 'proxy_hostbased');
  const proxyKeyLine = await makeKeyPair(proxyKey, 'ecdsa');
  sshd = await startSshd();
  await sshd.trustHostbased(proxyKeyLine);
  modSftp = await startProftpdSftp({ trustedHostKeys: [`${proxyKey}.pub`] });
  const listener = {
    protocol: 'sftp',
    sftp: { hostKeys: [join(keys, 'host_ed25519')], authorizedHostKeys: join(keys, 'authorized_host_keys') },
  };
  const poolSettings = { sftp: { hostKeys: [proxyKey], hostbasedHostname: HOSTBASED_HOSTNAME } };
  toSshd = await startTestProxy({ backends: [sshd.url], listener, poolSettings });
  toModSftp = await startTestProxy({ backends: [modSftp.url], listener, poolSettings });
  withoutHostKeys = await startTestProxy({
    backends: [sshd.url],
    listener: { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } },
    poolSettings,
  });
});

afterAll(async () => {
  await toSshd?.close();
  await toModSftp?.close();
  await withoutHostKeys?.close();
  await sshd?.stop();
  await modSftp?.stop();
  await rm(keys, { recursive: true, force: true });
});

/** ssh2 as a hostbased client signing with `keyFile`; resolves 'ready' or the error's message. */
function ssh2Hostbased(port: number, user: string, keyFile: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const client = new Client();
    let tried = false;
    client.on('ready', () => {
      client.end();
      resolve('ready');
    });
    client.on('error', (err) => resolve(err.message));
    client.connect({
      host: '127.0.0.1',
      port,
      username: user,
      readyTimeout: 20_000,
      authHandler: (_methodsLeft, _partial, next) => {
        if (tried) return next(false as unknown as AnyAuthMethod);
        tried = true;
        next({
          type: 'hostbased',
          username: user,
          key: keyFile,
          localHostname: 'client.test.',
          localUsername: 'someone',
        });
      },
    });
  });
}

describe('client hostbased logins relayed (SFTPAuthorizedHostKeys, then ProxySFTPHostKey)', () => {
  it('logs OpenSSH sftp (HostbasedAuthentication, ssh-keysign) in to sshd and transfers a file', async () => {
    const target: SshTarget = { host: toSshd.host, port: toSshd.port, user: sshd.user.name };
    const local = join(keys, 'up-sshd.bin');
    const sum = await makeRandomFile(local, 1024 * 1024);
    const back = join(keys, 'down-sshd.bin');
    const result = await sftpBatch(target, { hostbased: true }, [
      `put ${local} ${sshd.dataDir}/hb.bin`,
      `get ${sshd.dataDir}/hb.bin ${back}`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sha256File(back)).toBe(sum);
    expect(await sha256File(join(sshd.dataDir, 'hb.bin'))).toBe(sum);
    // The backend saw the proxy host's hostbased login, the proxy the client host's.
    expect(await sshd.logMatching(/Accepted hostbased/)).toMatch(
      new RegExp(`Accepted hostbased for ${sshd.user.name} from 127\\.0\\.0\\.1 .*ECDSA`),
    );
    const verified = toSshd.logs.find((line) => line.msg === 'client host verified');
    expect(verified).toMatchObject({ user: sshd.user.name, clientUser: 'root' });
  });

  it('logs OpenSSH sftp in to ProFTPD mod_sftp the same way', async () => {
    const target: SshTarget = { host: toModSftp.host, port: toModSftp.port, user: modSftp.user };
    const local = join(keys, 'up-mod.bin');
    const sum = await makeRandomFile(local, 512 * 1024);
    const back = join(keys, 'down-mod.bin');
    const result = await sftpBatch(target, { hostbased: true }, [
      `put ${local} /hb.bin`,
      `get /hb.bin ${back}`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sha256File(back)).toBe(sum);
    expect(await modSftp.log()).toContain(`user '${modSftp.user}' authenticated via 'hostbased' method`);
  });

  it('refuses a client host whose key is not listed, before the backend sees a login', async () => {
    await mkdir(join(keys, 'stranger'));
    const strangerKey = join(keys, 'stranger', 'host');
    await makeKeyPair(strangerKey, 'ed25519');
    const before = (await modSftp.log()).split("authenticated via 'hostbased'").length;
    const outcome = await ssh2Hostbased(toModSftp.port, modSftp.user, await readFile(strangerKey));
    expect(outcome).toMatch(/All configured authentication methods failed/);
    expect(
      toModSftp.logs.some(
        (line) => line.msg === 'login failed' && line.reason === 'client host key not authorized',
      ),
    ).toBe(true);
    expect((await modSftp.log()).split("authenticated via 'hostbased'").length).toBe(before);
  });

  it('refuses a listed host key whose signature is wrong', async () => {
    // A client that signs with another key than the one it names (the listed host key).
    const machine = ssh2.utils.parseKey(await readFile('/etc/ssh/ssh_host_ed25519_key.pub'));
    const other = ssh2.utils.parseKey(await readFile(join(keys, 'stranger', 'host')));
    if (machine instanceof Error || other instanceof Error) throw new Error('keys did not parse');
    const forged = Object.create(other) as typeof other;
    forged.getPublicSSH = () => machine.getPublicSSH();
    forged.type = machine.type;
    const outcome = await ssh2Hostbased(toSshd.port, sshd.user.name, forged as unknown as Buffer);
    expect(outcome).toMatch(/All configured authentication methods failed/);
    expect(
      toSshd.logs.some((line) => line.msg === 'login failed' && line.reason === 'bad hostbased signature'),
    ).toBe(true);
  });

  it('does not offer hostbased where no authorizedHostKeys are set', async () => {
    const target: SshTarget = {
      host: withoutHostKeys.host,
      port: withoutHostKeys.port,
      user: sshd.user.name,
    };
    const result = await sftpBatch(target, { hostbased: true }, ['pwd']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied \(password,keyboard-interactive\)/);
  });
});
