import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';

const run = promisify(execFile);

export interface TestSshd {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A real OpenSSH sshd on a loopback port with its own config and host key, for the SFTP health
 * check (which only does the version exchange and key exchange; nobody logs in). Debian's sshd
 * needs its privilege-separation directory /run/sshd, which its service script normally creates.
 * Needs root. Minimal on purpose: the SFTP work may bring a fuller sshd helper.
 */
export async function startSshdForHealth(options: { port?: number } = {}): Promise<TestSshd> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-sshd-'));
  await chmod(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const port = options.port ?? (await freePort('127.0.0.1'));
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const server = spawnServer('/usr/sbin/sshd', ['-D', '-e', '-f', config], dir);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (server.exitStatus() !== undefined) throw new Error(`sshd exited (${server.exitStatus()})`);
    if (await speaksSsh(port)) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`sshd on port ${port} did not answer within 10 s`);
    }
    await delay(100);
  }
  return { host: '127.0.0.1', port, stop: () => server.stop() };
}

function speaksSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-2.0-')));
  });
}
