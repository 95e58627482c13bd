import { repoRoot } from './binaries.js';
import { type RunOptions, type RunResult, runCommand } from './run-command.js';

/** Found from the repository root, because tsc does not copy it next to a compiled copy of this file. */
const SCRIPT = `${repoRoot}test/support/ftplib_client.py`;

/** One step for ftplib_client.py; paths are remote unless named `local`. */
export type PythonFtpOp =
  /** user/password default to the connection's. */
  | { op: 'login'; user?: string; password?: string }
  | { op: 'pwd' }
  | { op: 'list'; path?: string }
  | { op: 'nlst'; path?: string }
  | { op: 'mlsd'; path?: string }
  /** Writes exactly the received bytes to `local`: only the suffix from `rest` on, if given. */
  | { op: 'retr'; path: string; local: string; rest?: number }
  /** With `rest`, sends `local` from that offset on after REST, as a resuming upload does. */
  | { op: 'stor'; path: string; local: string; rest?: number }
  | { op: 'appe'; path: string; local: string }
  | { op: 'size'; path: string }
  | { op: 'dele'; path: string }
  /**
   * Reads `bytes` of a download, sends ABOR, then NOOP to collect every reply the ABOR caused. `style`
   * (default 'telnet') is how the ABOR goes out:
   * - 'telnet': Telnet IP + Synch, then ABOR (RFC 959, BSD ftp), reading the data connection until the
   *   server closes it. ProFTPD, vsftpd and Pure-FTPd all answer 426 then 226.
   * - 'ftplib': the bytes of ftplib's abort(). The kernel takes its urgent last byte ("\n") out of the
   *   stream: vsftpd and Pure-FTPd answer 500, ProFTPD waits for the line's end and the op times out.
   * - 'inband': a plain ABOR, then the data connection is closed at once. Pure-FTPd then sometimes
   *   answers with a mangled multi-line reply.
   */
  | { op: 'abort-during-retr'; path: string; bytes: number; style?: 'telnet' | 'ftplib' | 'inband' }
  | { op: 'quit' }
  /**
   * LIST, reading the final reply before closing the data connection (the data is read to its end
   * first); `events` records the order: data-end, final-reply, data-closed.
   */
  | { op: 'list-then-reply'; path?: string }
  /** AUTH TLS now, then PBSZ/PROT P unless `protP` is false; with `tlsLater` (TLS client, no AUTH first). */
  | { op: 'auth'; protP?: boolean }
  /** Any command on the control connection; a 4xx/5xx answer lands in `error`. */
  | { op: 'raw'; command: string };

export interface PythonFtpOpResult {
  /** `auth` and `prot`: the FTPS steps run before the ops when `tls` is set. */
  op: PythonFtpOp['op'] | 'auth' | 'prot';
  /** The command's final reply (for abort-during-retr: the first reply after ABOR, usually 426). */
  reply?: string;
  /** Set instead of `reply` when the op failed, e.g. '530 Login incorrect.' or 'TimeoutError: timed out'. */
  error?: string;
  /** pwd */
  path?: string;
  /** list, nlst: the listing's lines. */
  lines?: string[];
  /** mlsd: fact names are lower-cased. */
  entries?: { name: string; facts: Record<string, string> }[];
  /** retr, stor, appe: bytes moved; abort-during-retr: bytes read before ABOR. */
  bytes?: number;
  size?: number;
  /** abort-during-retr: replies that arrived after the first one and before NOOP's (usually a 226). */
  laterReplies?: string[];
  noopReply?: string;
  /** list-then-reply: what happened, in order. */
  events?: string[];
}

export interface PythonFtpResult {
  /** The 220 greeting, unless the connection failed. */
  welcome?: string;
  connectError?: string;
  results: PythonFtpOpResult[];
}

export interface PythonFtpOptions extends Omit<RunOptions, 'input'> {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Use EPSV instead of PASV (ftplib only does so by itself over IPv6). */
  epsv?: boolean;
  /** Active mode: ftplib listens and sends PORT (EPRT over IPv6). */
  active?: boolean;
  /** Connect to the address in the 227 reply instead of the control connection's peer (ftplib's default). */
  trustPasvHost?: boolean;
  /** Socket timeout inside Python, seconds. Defaults to 20. */
  socketTimeoutSeconds?: number;
  /**
   * FTPS with ftplib.FTP_TLS: AUTH TLS (explicit) or TLS from the first byte (implicit), then PBSZ and
   * PROT P unless `protP` is false; these show up as results `auth` and `prot` before the ops.
   */
  tls?: 'explicit' | 'implicit';
  protP?: boolean;
  /** The CA to verify the server with (the proxy's or backend's test CA). */
  caFile?: string;
  clientCert?: string;
  clientKey?: string;
  /** Data connections resume the control session (default); false is stock FTP_TLS, which does not. */
  reuseSession?: boolean;
  /** The TLS SNI name to send instead of `host` (the chain is still verified, the name is not). */
  serverName?: string;
  /** With `tls: 'explicit'`: no AUTH TLS before the ops; an `auth` op sends it (e.g. after USER). */
  tlsLater?: boolean;
}

export interface PythonFtpRun extends RunResult<string> {
  result: PythonFtpResult;
}

/**
 * Runs `ops` in order over one connection with Python's ftplib. Failed ops are reported in `result`;
 * this rejects only when the script itself could not run or crashed.
 */
export async function pythonFtp(ops: PythonFtpOp[], options: PythonFtpOptions): Promise<PythonFtpRun> {
  const job = {
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    epsv: options.epsv ?? false,
    active: options.active ?? false,
    trustPasvHost: options.trustPasvHost ?? false,
    timeout: options.socketTimeoutSeconds ?? 20,
    ...(options.tls
      ? {
          tls: options.tls,
          protP: options.protP ?? true,
          caFile: options.caFile,
          clientCert: options.clientCert,
          clientKey: options.clientKey,
          reuseSession: options.reuseSession ?? true,
          ...(options.serverName ? { serverName: options.serverName } : {}),
          ...(options.tlsLater ? { tlsLater: true } : {}),
        }
      : {}),
    ops,
  };
  const run = await runCommand('python3', [SCRIPT], {
    timeoutMs: options.timeoutMs,
    cwd: options.cwd,
    input: JSON.stringify(job),
  });
  const stdout = run.stdout.toString('utf8');
  if (run.code !== 0) {
    const how = run.timedOut ? 'timed out' : `exited with ${run.code}`;
    throw new Error(`ftplib_client.py ${how}\nstderr: ${run.stderr}\nstdout: ${stdout}`);
  }
  return { ...run, stdout, result: JSON.parse(stdout) as PythonFtpResult };
}
