import { repoRoot } from './binaries.js';
import { type RunOptions, type RunResult, runCommand } from './run-command.js';

/** Found from the repository root, because tsc does not copy it next to a compiled copy of this file. */
const SCRIPT = `${repoRoot}test/support/net_ftp_client.pl`;

/** One step for net_ftp_client.pl. */
export type PerlFtpOp =
  /** user/password default to the connection's. */
  | { op: 'login'; user?: string; password?: string }
  /** A bare USER command (no PASS). */
  | { op: 'user'; user: string }
  | { op: 'binary' }
  /**
   * As the ProFTPD and mod_proxy suites do: open the transfer, read once, close the data connection.
   * Net::FTP sends ABOR when the server has not closed the data connection by the time it checks.
   */
  | { op: 'retr'; path: string }
  | { op: 'list'; path?: string }
  | { op: 'nlst'; path?: string }
  /** Any command on the control connection. */
  | { op: 'quot'; command: string }
  | { op: 'quit' };

export interface PerlFtpOpResult {
  op: PerlFtpOp['op'];
  /** The last reply, e.g. '226 Transfer complete' (code and the last line's text). */
  reply?: string;
  /** Set when the op died (Net::FTP croaked). */
  error?: string;
  /** Transfers: false when the server refused to open one. */
  opened?: boolean;
  bytes?: number;
  data?: string;
  /** Transfers: Net::FTP did not see the end of the data by the time it closed, and sent ABOR. */
  aborted?: boolean;
}

export interface PerlFtpResult {
  welcome?: string;
  connectError?: string;
  results: PerlFtpOpResult[];
}

export interface PerlFtpOptions extends Omit<RunOptions, 'input'> {
  host: string;
  port: number;
  user: string;
  password: string;
  /** PASV (default) or PORT. */
  passive?: boolean;
  /** Net::FTP's timeout, seconds (default 20). */
  socketTimeoutSeconds?: number;
}

/** Runs `ops` in order over one connection with Perl's Net::FTP; rejects only when the script could not run. */
export async function perlFtp(ops: PerlFtpOp[], options: PerlFtpOptions): Promise<PerlFtpResult> {
  const job = {
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    passive: options.passive ?? true,
    timeout: options.socketTimeoutSeconds ?? 20,
    ops,
  };
  const run: RunResult = await runCommand('perl', [SCRIPT], {
    timeoutMs: options.timeoutMs,
    cwd: options.cwd,
    input: JSON.stringify(job),
  });
  const stdout = run.stdout.toString('utf8');
  if (run.code !== 0) {
    const how = run.timedOut ? 'timed out' : `exited with ${run.code}`;
    throw new Error(`net_ftp_client.pl ${how}\nstderr: ${run.stderr}\nstdout: ${stdout}`);
  }
  return JSON.parse(stdout) as PerlFtpResult;
}
