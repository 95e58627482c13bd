import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunResult, runCommand } from './run-command.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

/**
 * Password via SSH_ASKPASS (every prompt gets it), a private key file, both (a chain; `methods` is
 * PreferredAuthentications), or hostbased (this machine's host key, signed by ssh-keysign: see
 * enableSshKeysign).
 */
export type SshAuth =
  | { password: string }
  | { identity: string }
  | { identity: string; password: string; methods: string }
  | { hostbased: true };

let askpass: Promise<string> | undefined;

/** A script that prints $FTPX_ASKPASS_PASSWORD: OpenSSH asks it for every password prompt. */
function askpassScript(): Promise<string> {
  askpass ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ftpx-askpass-'));
    const path = join(dir, 'askpass.sh');
    await writeFile(path, '#!/bin/sh\nprintf "%s\\n" "$FTPX_ASKPASS_PASSWORD"\n');
    await chmod(path, 0o700);
    return path;
  })();
  return askpass;
}

async function sshEnvironment(auth: SshAuth): Promise<NodeJS.ProcessEnv> {
  if (!('password' in auth)) return { ...process.env };
  // (a chain of a key and a password reads the password from SSH_ASKPASS too)
  return {
    ...process.env,
    SSH_ASKPASS: await askpassScript(),
    SSH_ASKPASS_REQUIRE: 'force',
    DISPLAY: process.env.DISPLAY ?? ':0',
    FTPX_ASKPASS_PASSWORD: auth.password,
  };
}

function sshOptions(auth: SshAuth, extra: string[], logLevel = 'ERROR'): string[] {
  const common = [
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    `LogLevel=${logLevel}`,
  ];
  const byAuth =
    'hostbased' in auth
      ? [
          '-o',
          'HostbasedAuthentication=yes',
          '-o',
          'EnableSSHKeysign=yes',
          '-o',
          'PreferredAuthentications=hostbased',
          '-o',
          'BatchMode=yes',
        ]
      : 'identity' in auth && 'password' in auth
        ? [
            '-i',
            auth.identity,
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'BatchMode=no',
            '-o',
            `PreferredAuthentications=${auth.methods}`,
            '-o',
            'NumberOfPasswordPrompts=1',
          ]
        : 'password' in auth
          ? [
              '-o',
              'BatchMode=no',
              '-o',
              'PubkeyAuthentication=no',
              '-o',
              'PreferredAuthentications=keyboard-interactive,password',
              '-o',
              'NumberOfPasswordPrompts=1',
            ]
          : [
              '-i',
              auth.identity,
              '-o',
              'IdentitiesOnly=yes',
              '-o',
              'PreferredAuthentications=publickey',
              '-o',
              'BatchMode=yes',
            ];
  return [...common, ...byAuth, ...extra];
}

/** OpenSSH sftp in batch mode (`-b -`): the commands go to its stdin; any failed command fails the run. */
export async function sftpBatch(
  target: SshTarget,
  auth: SshAuth,
  commands: string[],
  options: { extraOptions?: string[]; timeoutMs?: number; logLevel?: 'ERROR' | 'VERBOSE' | 'DEBUG1' } = {},
): Promise<RunResult<string>> {
  const result = await runCommand(
    'sftp',
    [
      ...sshOptions(auth, options.extraOptions ?? [], options.logLevel),
      '-P',
      String(target.port),
      '-b',
      '-',
      `${target.user}@${target.host}`,
    ],
    {
      input: `${commands.join('\n')}\n`,
      env: await sshEnvironment(auth),
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  );
  return { ...result, stdout: result.stdout.toString('utf8') };
}

/** OpenSSH scp in its original protocol (`-O`: exec scp -t/-f, not SFTP). `remote:` marks the server side. */
export async function scp(
  target: SshTarget,
  auth: SshAuth,
  from: string,
  to: string,
  options: { extraOptions?: string[]; timeoutMs?: number } = {},
): Promise<RunResult<string>> {
  const remote = (path: string) =>
    path.startsWith('remote:') ? `${target.user}@${target.host}:${path.slice(7)}` : path;
  const result = await runCommand(
    'scp',
    [
      '-O',
      '-q',
      ...sshOptions(auth, options.extraOptions ?? []),
      '-P',
      String(target.port),
      remote(from),
      remote(to),
    ],
    { env: await sshEnvironment(auth), timeoutMs: options.timeoutMs ?? 60_000 },
  );
  return { ...result, stdout: result.stdout.toString('utf8') };
}

/** OpenSSH ssh running `command` (or a shell when empty), for refused-request tests. */
export async function ssh(
  target: SshTarget,
  auth: SshAuth,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<RunResult<string>> {
  const result = await runCommand(
    'ssh',
    [...sshOptions(auth, []), '-p', String(target.port), `${target.user}@${target.host}`, ...args],
    {
      env: await sshEnvironment(auth),
      timeoutMs: options.timeoutMs ?? 30_000,
    },
  );
  return { ...result, stdout: result.stdout.toString('utf8') };
}

const KEYSIGN_DROP_IN = '/etc/ssh/ssh_config.d/ftpx-test-keysign.conf';

/**
 * OpenSSH's hostbased client signs with the machine's host key through the setuid ssh-keysign, which
 * reads only the system ssh_config: `EnableSSHKeysign yes` goes into a drop-in there, once per
 * machine (it changes nothing for clients that do not ask for HostbasedAuthentication). Returns the
 * host's ed25519 public key line, which ssh-keysign signs with.
 */
export async function enableSshKeysign(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  await writeFile(
    KEYSIGN_DROP_IN,
    '# ftpx tests: hostbased logins from this machine (ssh-keysign)\nEnableSSHKeysign yes\n',
  );
  return (await readFile('/etc/ssh/ssh_host_ed25519_key.pub', 'utf8')).trim();
}
