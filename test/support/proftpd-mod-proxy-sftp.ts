import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';
import { proftpdPreamble } from './proftpd-conf-preamble.js';
import { waitForPort } from './sshd.js';

const run = promisify(execFile);

export interface ModProxySftp {
  port: number;
  /** The standalone proftpd's pid (it forks one process per session). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * ProFTPD's mod_proxy as an SSH reverse proxy (mod_sftp terminates the client's SSH, mod_proxy
 * speaks SSH to `backendUrl`, an sftp:// URL), as in the mod_proxy documentation's SFTP section
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html). mod_proxy loads after mod_sftp.
 */
export async function startModProxySftp(backendUrl: string): Promise<ModProxySftp> {
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-mod-proxy-sftp-'));
  await chmod(workDir, 0o755);
  await run('ssh-keygen', [
    '-q',
    '-m',
    'PEM',
    '-t',
    'rsa',
    '-b',
    '2048',
    '-N',
    '',
    '-f',
    join(workDir, 'hostkey'),
  ]);
  const port = await freePort();
  const config = join(workDir, 'proftpd.conf');
  await writeFile(
    config,
    `${proftpdPreamble({ name: 'mod_proxy-sftp', port, workDir })}ModulePath /usr/lib/proftpd
LoadModule mod_sftp.c
LoadModule mod_proxy.c
LoadModule mod_tls.c
SFTPEngine on
SFTPLog ${workDir}/sftp.log
SFTPHostKey ${workDir}/hostkey
ProxyEngine on
ProxyLog ${workDir}/proxy.log
ProxyTables ${workDir}/tables
ProxyRole reverse
ProxyReverseServers ${backendUrl}
ProxySourceAddress 127.0.0.1
`,
  );
  const runDir = await mkdtemp(join(workDir, 'run-'));
  const server = spawnServer('/usr/sbin/proftpd', ['-n', '-q', '-c', config], runDir);
  try {
    await waitForPort(port, () => server.exitStatus());
  } catch (err) {
    const logs = await Promise.all(
      [server.outputFile, join(workDir, 'proftpd.log'), join(workDir, 'proxy.log')].map((file) =>
        readFile(file, 'utf8').catch(() => ''),
      ),
    );
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`mod_proxy (SFTP) did not start: ${(err as Error).message}\n${logs.join('\n')}`);
  }
  return {
    port,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
