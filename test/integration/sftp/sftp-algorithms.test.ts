import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy } from '../../support/proxy.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

/**
 * One quick session per algorithm both ssh2 and OpenSSH 9.2 enable by default: the client forces it
 * on the frontend (ssh -c / -m / KexAlgorithms / HostKeyAlgorithms), the pool's ProxySFTP* list forces
 * it on the backend, and sshd's debug log shows what the backend leg negotiated.
 */
const CIPHERS = [
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
];
const MACS = [
  'hmac-sha2-256-etm@openssh.com',
  'hmac-sha2-512-etm@openssh.com',
  'hmac-sha1-etm@openssh.com',
  'hmac-sha2-256',
  'hmac-sha2-512',
  'hmac-sha1',
];
const KEXES = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
];
const HOST_KEYS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-256', 'rsa-sha2-512'];

let sshd: Sshd;
let keys: string;
let hostKeys: string[];

beforeAll(async () => {
  sshd = await startSshd({ logLevel: 'DEBUG1', extraConfig: 'Compression yes' });
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-algos-'));
  hostKeys = [];
  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    await makeKeyPair(join(keys, `host_${type}`), type);
    hostKeys.push(join(keys, `host_${type}`));
  }
});

afterAll(async () => {
  await sshd?.stop();
  await rm(keys, { recursive: true, force: true });
});

/** A proxy whose backend side offers only `backend`; a session forced to `client` on the frontend. */
async function session(backend: Record<string, unknown>, clientOptions: string[]): Promise<void> {
  const proxy = await startTestProxy({
    backends: [sshd.url],
    connectTimeout: '30s',
    listener: { protocol: 'sftp', sftp: { hostKeys } },
    poolSettings: { sftp: backend },
  });
  try {
    const result = await sftpBatch(
      { host: proxy.host, port: proxy.port, user: sshd.user.name },
      { password: sshd.user.password },
      ['pwd'],
      { extraOptions: clientOptions },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  } finally {
    await proxy.close();
  }
}

/** The part of sshd's log written by `action`. */
async function backendLog(action: () => Promise<void>): Promise<string> {
  const before = (await sshd.log()).length;
  await action();
  return (await sshd.log()).slice(before);
}

describe('algorithms on both legs', () => {
  it.each(CIPHERS)('cipher %s', async (cipher) => {
    const log = await backendLog(() => session({ ciphers: [cipher] }, ['-c', cipher]));
    expect(log).toContain(`kex: client->server cipher: ${cipher}`);
  });

  it.each(MACS)('MAC %s', async (mac) => {
    const log = await backendLog(() =>
      session({ ciphers: ['aes128-ctr'], digests: [mac] }, ['-c', 'aes128-ctr', '-o', `MACs=${mac}`]),
    );
    expect(log).toContain(`MAC: ${mac}`);
  });

  it.each(KEXES)('key exchange %s', async (kex) => {
    // ssh2's server has no group exchange: the client leg uses another exchange then.
    const client = kex.includes('group-exchange') ? [] : ['-o', `KexAlgorithms=${kex}`];
    const log = await backendLog(() => session({ keyExchanges: [kex] }, client));
    expect(log).toContain(`kex: algorithm: ${kex}`);
  });

  it.each(HOST_KEYS)('host key algorithm %s', async (algorithm) => {
    const log = await backendLog(() =>
      session({ hostKeyAlgorithms: [algorithm] }, ['-o', `HostKeyAlgorithms=${algorithm}`]),
    );
    expect(log).toContain(`kex: host key algorithm: ${algorithm}`);
  });

  it('delayed compression (ProxySFTPCompression delayed) with zlib@openssh.com', async () => {
    const log = await backendLog(() => session({ compression: 'delayed' }, ['-C']));
    expect(log).toContain('compression: zlib@openssh.com');
  });

  it('no compression by default (ProxySFTPCompression off)', async () => {
    const log = await backendLog(() => session({}, ['-C']));
    expect(log).toContain('compression: none');
    expect(log).not.toContain('compression: zlib');
  });
});
