import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomFile, sha256File } from '../../support/files.js';
import { curl } from '../../support/ftp-clients.js';
import { type ProftpdSftp, startProftpdSftp } from '../../support/proftpd-sftp.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

// curl's sftp:// (libssh2, the client library mod_proxy's own suite uses through Net::SSH2) through
// ftpx to OpenSSH sshd and to ProFTPD mod_sftp: upload, download and directory listings, and scp://.

const run = promisify(execFile);

let keys: string;
let sshd: Sshd;
let modSftp: ProftpdSftp;
let toSshd: TestProxy;
let toModSftp: TestProxy;

interface Backend {
  name: string;
  proxy: () => TestProxy;
  user: () => string;
  password: () => string;
  /** The directory for this suite's files, as the client names it and as it is on disk. */
  remoteDir: () => string;
  localDir: () => string;
}

const backends: Backend[] = [
  {
    name: 'OpenSSH sshd',
    proxy: () => toSshd,
    user: () => sshd.user.name,
    password: () => sshd.user.password,
    remoteDir: () => `${sshd.dataDir}/curl`,
    localDir: () => join(sshd.dataDir, 'curl'),
  },
  {
    name: 'ProFTPD mod_sftp',
    proxy: () => toModSftp,
    user: () => modSftp.user,
    password: () => modSftp.password,
    remoteDir: () => '/curl',
    localDir: () => join(modSftp.homeDir, 'curl'),
  },
];

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-curl-'));
  await makeKeyPair(join(keys, 'host_ed25519'), 'ed25519');
  sshd = await startSshd();
  modSftp = await startProftpdSftp();
  const listener = { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host_ed25519')] } };
  toSshd = await startTestProxy({ backends: [sshd.url], listener });
  toModSftp = await startTestProxy({ backends: [modSftp.url], listener });
  for (const backend of backends) {
    await mkdir(backend.localDir());
    for (const name of ['a.txt', 'b.txt', 'c.txt'])
      await writeFile(join(backend.localDir(), name), `${name}\n`);
  }
  // Owned by the backends' users, who write here.
  await run('chown', ['-R', `${sshd.user.uid}:${sshd.user.gid}`, join(sshd.dataDir, 'curl')]);
  await run('chown', ['-R', '65534:65534', join(modSftp.homeDir, 'curl')]);
});

afterAll(async () => {
  await toSshd?.close();
  await toModSftp?.close();
  await sshd?.stop();
  await modSftp?.stop();
  await rm(keys, { recursive: true, force: true });
});

/** curl against `backend` through ftpx; --insecure: libssh2 skips the known_hosts check. */
function curlSftp(backend: Backend, path: string, args: string[] = [], scheme: 'sftp' | 'scp' = 'sftp') {
  const proxy = backend.proxy();
  return curl(
    [
      '--insecure',
      '--user',
      `${backend.user()}:${backend.password()}`,
      ...args,
      `${scheme}://${proxy.host}:${proxy.port}${path}`,
    ],
    { timeoutMs: 60_000 },
  );
}

describe.each(backends)('curl sftp:// through ftpx to $name', (backend) => {
  it('uploads and downloads 3 MiB intact (SHA-256 compared)', async () => {
    const local = join(keys, `${backend.name}-up.bin`.replace(/\W+/g, '-'));
    const sum = await makeRandomFile(local, 3 * 1024 * 1024);
    const upload = await curlSftp(backend, `${backend.remoteDir()}/up.bin`, ['--upload-file', local]);
    expect(upload.stderr).toBe('');
    expect(upload.code).toBe(0);
    expect(await sha256File(join(backend.localDir(), 'up.bin'))).toBe(sum);
    const back = `${local}.back`;
    const download = await curlSftp(backend, `${backend.remoteDir()}/up.bin`, ['--output', back]);
    expect(download.stderr).toBe('');
    expect(download.code).toBe(0);
    expect(await sha256File(back)).toBe(sum);
  });

  it('lists a directory (names only, and the long form)', async () => {
    const names = await curlSftp(backend, `${backend.remoteDir()}/`, ['--list-only']);
    expect(names.code).toBe(0);
    const listed = names.stdout
      .toString('utf8')
      .split('\n')
      .filter((name) => name.endsWith('.txt'))
      .sort();
    expect(listed).toEqual(['a.txt', 'b.txt', 'c.txt']);
    const long = await curlSftp(backend, `${backend.remoteDir()}/`);
    expect(long.code).toBe(0);
    const lines = long.stdout.toString('utf8').split('\n');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) {
      expect(lines.some((line) => /^-[rwx-]{9}\s/.test(line) && line.endsWith(` ${name}`))).toBe(true);
    }
  });

  it('copies with scp:// (libssh2 scp: exec scp -t / scp -f) both ways intact', async () => {
    const local = join(keys, `${backend.name}-scp.bin`.replace(/\W+/g, '-'));
    const sum = await makeRandomFile(local, 1024 * 1024);
    const upload = await curlSftp(backend, `${backend.remoteDir()}/scp.bin`, ['--upload-file', local], 'scp');
    expect(upload.stderr).toBe('');
    expect(upload.code).toBe(0);
    expect(await sha256File(join(backend.localDir(), 'scp.bin'))).toBe(sum);
    const back = `${local}.back`;
    const download = await curlSftp(backend, `${backend.remoteDir()}/scp.bin`, ['--output', back], 'scp');
    expect(download.code).toBe(0);
    expect(await sha256File(back)).toBe(sum);
  });

  it('fails cleanly for a missing file', async () => {
    const missing = await curlSftp(backend, `${backend.remoteDir()}/missing.bin`, [
      '--output',
      join(keys, 'missing'),
    ]);
    // CURLE_REMOTE_FILE_NOT_FOUND
    expect(missing.code).toBe(78);
  });
});
