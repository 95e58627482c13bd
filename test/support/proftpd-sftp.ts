import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './binaries.js';
import { sha512Crypt } from './password-hash.js';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';
import { proftpdPreamble } from './proftpd-conf-preamble.js';
import { waitForPort } from './sshd.js';

const run = promisify(execFile);
const USER = 'ftpx';
const PASSWORD = 'ftpx-pass';
const NOBODY = 65534;

export interface ProftpdSftp {
  port: number;
  url: string;
  user: string;
  password: string;
  /** The user's home (chroot), owned by nobody. */
  homeDir: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * ProFTPD with mod_sftp (Debian's DSO, `LoadModule mod_sftp.c`) as an SSH backend: one virtual user
 * chrooted to its home, password logins, and hostbased logins from the host keys whose public halves
 * are given (SFTPAuthorizedHostKeys wants them in RFC 4716 form, converted here with ssh-keygen -e).
 */
export interface ProftpdSftpOptions {
  trustedHostKeys?: string[];
  /** The host key's type (mod_proxy's suite runs rsa, dsa, ecdsa 256/384/521 and ed25519 backends). */
  hostKey?: { type: 'rsa' | 'dsa' | 'ecdsa' | 'ed25519'; bits?: number };
  /** More mod_sftp directives (SFTPKeyExchanges, SFTPCiphers, SFTPDigests, SFTPRekey, SFTPAuthMethods, ...). */
  directives?: string[];
  /** Replaces `password hostbased`. */
  authMethods?: string;
}

export async function startProftpdSftp(options: ProftpdSftpOptions = {}): Promise<ProftpdSftp> {
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-proftpd-sftp-'));
  await chmod(workDir, 0o755);
  const homeDir = join(workDir, 'home');
  await mkdir(homeDir);
  await chown(homeDir, NOBODY, NOBODY);
  const hostKey = options.hostKey ?? { type: 'rsa', bits: 2048 };
  await run('ssh-keygen', [
    '-q',
    // mod_sftp reads PEM for rsa/ecdsa, and OpenSSH's own format for ed25519.
    ...(hostKey.type === 'ed25519' ? [] : ['-m', 'PEM']),
    '-t',
    hostKey.type,
    ...(hostKey.bits ? ['-b', String(hostKey.bits)] : []),
    '-N',
    '',
    '-f',
    join(workDir, 'hostkey'),
  ]);
  const authorized: string[] = [];
  for (const pub of options.trustedHostKeys ?? []) {
    authorized.push((await run('ssh-keygen', ['-e', '-f', pub])).stdout);
  }
  await writeFile(join(workDir, 'authorized_host_keys'), authorized.join(''));
  await writeFile(
    join(workDir, 'passwd'),
    `${USER}:${await sha512Crypt(PASSWORD)}:${NOBODY}:${NOBODY}::${homeDir}:/bin/sh\n`,
    {
      mode: 0o600,
    },
  );
  const port = await freePort();
  await writeFile(
    join(workDir, 'proftpd.conf'),
    `${proftpdPreamble({ name: 'proftpd-sftp', port, workDir })}LoadModule mod_sftp.c
SFTPEngine on
SFTPLog ${workDir}/sftp.log
SFTPHostKey ${workDir}/hostkey
SFTPAuthMethods ${options.authMethods ?? 'password hostbased'}
SFTPAuthorizedHostKeys file:${workDir}/authorized_host_keys
AuthOrder mod_auth_file.c
AuthUserFile ${workDir}/passwd
RequireValidShell off
DefaultRoot ~
AllowOverwrite on
${(options.directives ?? []).join('\n')}
`,
  );
  const runDir = await mkdtemp(join(workDir, 'run-'));
  const server = spawnServer(
    findBinary('/usr/sbin/proftpd'),
    ['-n', '-q', '-c', join(workDir, 'proftpd.conf')],
    runDir,
  );
  await waitForPort(port, () => server.exitStatus());
  const { readFile } = await import('node:fs/promises');
  return {
    port,
    url: `sftp://127.0.0.1:${port}`,
    user: USER,
    password: PASSWORD,
    homeDir,
    log: async () =>
      [
        await readFile(join(workDir, 'sftp.log'), 'utf8').catch(() => ''),
        await readFile(server.outputFile, 'utf8').catch(() => ''),
      ].join('\n'),
    stop: async () => {
      await server.stop();
      await run('rm', ['-rf', workDir]);
    },
  };
}
