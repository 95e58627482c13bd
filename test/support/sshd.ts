import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { type ServerProcess, spawnServer } from './process.js';
import { ensureSshUser, type SystemUser } from './system-user.js';

const run = promisify(execFile);

/** The client host name ftpx names in hostbased requests in the tests (trusted by the sshd below). */
export const HOSTBASED_HOSTNAME = 'ftpx-proxy.test';

export interface Sshd {
  host: string;
  port: number;
  /** sftp://127.0.0.1:port */
  url: string;
  user: SystemUser;
  /** A directory owned by the test user, for the files of one suite. */
  dataDir: string;
  workDir: string;
  /** The ed25519 host public key line (as in known_hosts, without the host name). */
  hostKey(): Promise<string>;
  /** Adds a public key line to the user's authorized_keys of this sshd. */
  authorize(publicKeyLine: string): Promise<void>;
  /** Trusts `publicKeyLine` as the host key of HOSTBASED_HOSTNAME for hostbased logins of the test user. */
  trustHostbased(publicKeyLine: string): Promise<void>;
  /** Restarts on the same port, with new host keys when `newHostKeys`. */
  restart(options?: { newHostKeys?: boolean }): Promise<void>;
  log(): Promise<string>;
  /** The log once it matches `pattern` (sshd may write a line just after the client saw the result), or as it is after 2 s. */
  logMatching(pattern: RegExp): Promise<string>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Appended to sshd_config. */
  extraConfig?: string;
  /** sshd's LogLevel (DEBUG1 logs the negotiated algorithms, DEBUG2 the peer's KEXINIT proposal). */
  logLevel?: 'VERBOSE' | 'DEBUG1' | 'DEBUG2';
  /** Where to listen: 127.0.0.1 and a free port unless given (e.g. a test's own network). */
  host?: string;
  port?: number;
}

/** Makes an unencrypted key pair of `type` at `path` (and `path`.pub); returns the public key line. */
export async function makeKeyPair(
  path: string,
  type: 'ed25519' | 'rsa' | 'ecdsa',
  passphrase = '',
): Promise<string> {
  await run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    passphrase,
    '-C',
    '',
    '-f',
    path,
  ]);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

/**
 * Debian's OpenSSH sshd as root on a free loopback port, with its own config, host keys and
 * authorized_keys directory, allowing only the SSH test user: password and keyboard-interactive
 * (PAM), publickey and hostbased (the user's ~/.shosts and ~/.ssh/known_hosts name the proxy).
 */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const user = await ensureSshUser();
  // The privilege-separation directory the service script normally creates.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-sshd-'));
  await chmod(workDir, 0o755);
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir);
  await chown(dataDir, user.uid, user.gid);
  const keysDir = join(workDir, 'authorized_keys');
  await mkdir(keysDir);
  await makeHostKeys(workDir);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const config = join(workDir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      ...['ed25519', 'ecdsa', 'rsa'].map((type) => `HostKey ${workDir}/ssh_host_${type}_key`),
      `PidFile ${workDir}/sshd.pid`,
      `AuthorizedKeysFile ${keysDir}/%u`,
      'StrictModes no',
      'UsePAM yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication yes',
      'PubkeyAuthentication yes',
      'HostbasedAuthentication yes',
      'HostbasedUsesNameFromPacketOnly yes',
      'IgnoreRhosts no',
      'IgnoreUserKnownHosts no',
      `AllowUsers ${user.name}`,
      'MaxAuthTries 6',
      'MaxStartups 100',
      'PrintMotd no',
      'UseDNS no',
      `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  let server: ServerProcess | undefined;
  const launch = async () => {
    // The work dir is removed by stop() only (ServerProcess removes its own, so give it a child dir).
    const runDir = await mkdtemp(join(workDir, 'run-'));
    server = spawnServer('/usr/sbin/sshd', ['-D', '-e', '-f', config], runDir);
    await waitForPort(port, () => server?.exitStatus(), host);
  };
  await launch();
  const sshd: Sshd = {
    host,
    port,
    url: `sftp://${host}:${port}`,
    user,
    dataDir,
    workDir,
    hostKey: async () => {
      const [type, key] = (await readFile(`${workDir}/ssh_host_ed25519_key.pub`, 'utf8')).trim().split(/\s+/);
      return `${type} ${key}`;
    },
    authorize: async (line) => {
      const file = join(keysDir, user.name);
      await appendFile(file, `${line}\n`);
      await chmod(file, 0o644);
    },
    trustHostbased: async (line) => {
      const home = user.home;
      await mkdir(join(home, '.ssh'), { recursive: true });
      await writeFile(join(home, '.shosts'), `${HOSTBASED_HOSTNAME} ${user.name}\n`);
      await appendFile(join(home, '.ssh', 'known_hosts'), `${HOSTBASED_HOSTNAME} ${line}\n`);
    },
    restart: async (restartOptions = {}) => {
      await server?.stop();
      if (restartOptions.newHostKeys) await makeHostKeys(workDir);
      await launch();
    },
    log: async () => (server ? readFile(server.outputFile, 'utf8').catch(() => '') : ''),
    logMatching: async (pattern) => {
      let text = await sshd.log();
      for (let i = 0; i < 40 && !pattern.test(text); i++) {
        await delay(50);
        text = await sshd.log();
      }
      return text;
    },
    stop: async () => {
      await server?.stop();
      await run('rm', ['-rf', workDir]);
    },
  };
  return sshd;
}

async function makeHostKeys(workDir: string): Promise<void> {
  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    const path = `${workDir}/ssh_host_${type}_key`;
    await run('rm', ['-f', path, `${path}.pub`]);
    await makeKeyPair(path, type);
  }
}

/** Resolves once something accepts connections on the port; rejects when `exited` says the server died. */
export async function waitForPort(
  port: number,
  exited: () => string | undefined,
  host = '127.0.0.1',
): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = exited();
    if (status !== undefined) throw new Error(`server exited: ${status}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await delay(50);
  }
  throw new Error(`nothing listens on ${port}`);
}
