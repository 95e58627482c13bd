import { join } from 'node:path';
import { repoRoot } from './binaries.js';
import { runCommand } from './run-command.js';
import type { SshTarget } from './ssh-clients.js';

/** What the Net::SSH2 client printed: `ok` 1 when every step succeeded. */
export interface NetSsh2Result {
  ok: 0 | 1;
  /** Password authentication succeeded. */
  auth?: 1;
  error?: string;
  /** readdir: the names, sorted. */
  names?: string[];
  /** auth_none: the methods the server listed. */
  methods?: string[];
  /** stat: the size. */
  size?: number;
}

export type NetSsh2Operation =
  | ['login' | 'auth_none' | 'sftp_without_auth']
  | ['sftp_get' | 'scp_get', remote: string, local: string]
  | ['sftp_put' | 'scp_put', local: string, remote: string]
  | ['readdir' | 'stat', remote: string];

/**
 * Perl's Net::SSH2 (Debian's libnet-ssh2-perl, on libssh2): the client ProFTPD mod_proxy's SSH tests
 * use, run as its own process (test/support/net_ssh2_client.pl) with a password login.
 */
export async function netSsh2(
  target: SshTarget,
  password: string,
  ...operation: NetSsh2Operation
): Promise<NetSsh2Result> {
  const result = await runCommand(
    'perl',
    [
      join(repoRoot, 'test', 'support', 'net_ssh2_client.pl'),
      target.host,
      String(target.port),
      target.user,
      password,
      ...operation,
    ],
    { timeoutMs: 90_000 },
  );
  const line = result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as NetSsh2Result;
  } catch {
    return { ok: 0, error: `no result (exit ${result.code}): ${result.stderr}` };
  }
}
