import { repoRoot } from './binaries.js';
import { runCommand } from './run-command.js';

/** Found from the repository root, because tsc does not copy it next to a compiled copy of this file. */
const SCRIPT = `${repoRoot}test/support/netftp_client.pl`;

/** One step for netftp_client.pl (Perl's Net::FTP, the client mod_proxy's own regression suite drives). */
export type NetFtpStep = (
  | { op: 'login'; user: string; pass: string }
  /** Any command; `ok` is false on a 4xx/5xx. PASV/EPSV/PORT/EPRT also switch Net::FTP's data mode. */
  | { op: 'quot'; cmd: string; arg?: string }
  | { op: 'type'; type: 'ascii' | 'binary' }
  /** AUTH TLS, and PROT (Net::FTP's own TLS, IO::Socket::SSL). */
  | { op: 'starttls' }
  | { op: 'prot'; level?: 'P' | 'C' }
  /** Net::FTP listens and sends PORT (EPRT over IPv6) for the next transfer. */
  | { op: 'port' }
  | { op: 'eprt' }
  /**
   * A transfer as the suite does it: open, read (`once`: one read of up to 8192 bytes, as the suite;
   * `all`: until EOF) or write `data` / `size` bytes of 'R', then close (or ABOR with `abort`), then
   * the final reply.
   */
  | {
      op: 'list' | 'nlst' | 'mlsd' | 'retr' | 'stor' | 'appe';
      path?: string;
      read?: 'once' | 'all';
      data?: string;
      size?: number;
      abort?: boolean;
      noData?: boolean;
      readTimeout?: number;
      /** With `read: 'all'`: bytes per read, and a pause after each (a slow consumer). */
      readSize?: number;
      pauseMs?: number;
      /** Seconds to wait once the transfer opened, before the first byte moves (a stalled transfer). */
      pauseBeforeSeconds?: number;
    }
  | { op: 'quit' }
  | { op: 'sleep'; seconds: number }
  /** Waits for what the server says next (e.g. an idle-timeout 421), and whether it then closed. */
  | { op: 'wait-close' }
) & { stopOnFailure?: boolean };

export interface NetFtpReply {
  code: number;
  /** The reply's lines without the code prefix, as Net::FTP's message(). */
  lines: string[];
}

export interface NetFtpStepResult extends Partial<NetFtpReply> {
  op: NetFtpStep['op'];
  ok: boolean;
  error?: string;
  /** A transfer's first reply (150/125) when it opened. */
  opened?: NetFtpReply;
  bytes?: number;
  data?: string;
  closed?: boolean;
  seconds: number;
}

export interface NetFtpResult {
  connected: boolean;
  connectError?: string;
  connectSeconds: number;
  greeting?: NetFtpReply;
  steps: NetFtpStepResult[];
}

export interface NetFtpOptions {
  port: number;
  host?: string;
  /** false: Net::FTP's active mode (PORT for every transfer). Default true. */
  passive?: boolean;
  /** Net::FTP's Timeout, seconds (default 10). */
  timeout?: number;
  tls?: 'explicit' | 'implicit';
  /** The SNI name; an empty string sends none (Net::FTP otherwise sends the host it connects to). */
  sslHostname?: string;
  /** A client certificate and key (PEM files) for the TLS handshakes. */
  clientCert?: string;
  clientKey?: string;
  /** Net::FTP's Firewall / FirewallType (proxy login styles). */
  firewall?: string;
  firewallType?: number;
  runTimeoutMs?: number;
}

/**
 * Runs `steps` over one Net::FTP session. Failed steps land in the result; this rejects only when the
 * script itself could not run.
 */
export async function netFtp(steps: NetFtpStep[], options: NetFtpOptions): Promise<NetFtpResult> {
  const { runTimeoutMs, ...spec } = options;
  const run = await runCommand('perl', [SCRIPT], {
    timeoutMs: runTimeoutMs ?? 60_000,
    input: JSON.stringify({ ...spec, steps }),
  });
  const stdout = run.stdout.toString('utf8');
  if (run.code !== 0) {
    const how = run.timedOut
      ? 'timed out'
      : run.signal
        ? `was killed by ${run.signal}`
        : `exited with ${run.code}`;
    throw new Error(`netftp_client.pl ${how}\nstderr: ${run.stderr}\nstdout: ${stdout}`);
  }
  return JSON.parse(stdout) as NetFtpResult;
}

/** What ProFTPD's test suite reads as "the message": a multi-line reply's second line, else the first. */
export function suiteMessage(reply: Partial<NetFtpReply> | undefined): string | undefined {
  const lines = reply?.lines ?? [];
  return lines.length > 1 ? lines[1] : lines[0];
}

/** `code message` as the suite compares it. */
export function codeAndMessage(reply: Partial<NetFtpReply> | undefined): string {
  return `${reply?.code ?? 0} ${suiteMessage(reply) ?? ''}`;
}
