import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunResult, runCommand } from './run-command.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

/** Password via SSH_ASKPASS (every prompt gets it), or a private key file. */
export type SshAuth = { password: string } | { identity: string };

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
  return {
    ...process.env,
    SSH_ASKPASS: await askpassScript(),
    SSH_ASKPASS_REQUIRE: 'force',
    DISPLAY: process.env.DISPLAY ?? ':0',
    FTPX_ASKPASS_PASSWORD: auth.password,
  };
}

function sshOptions(auth: SshAuth, extra: string[]): string[] {
  const common = [
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
  ];
  const byAuth =
    'password' in auth
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
  options: { extraOptions?: string[]; timeoutMs?: number } = {},
): Promise<RunResult<string>> {
  const result = await runCommand(
    'sftp',
    [
      ...sshOptions(auth, options.extraOptions ?? []),
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
