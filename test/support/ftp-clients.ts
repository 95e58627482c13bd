import { type RunOptions, type RunResult, runCommand } from './run-command.js';

export {
  type PythonFtpOp,
  type PythonFtpOpResult,
  type PythonFtpOptions,
  type PythonFtpResult,
  type PythonFtpRun,
  pythonFtp,
} from './python-ftp.js';

/** The client is SIGKILLed after `timeoutMs` (60 s by default). */
export type ClientOptions = Omit<RunOptions, 'input'>;

/** How a client run ended; `code` is null when it was killed, which includes every timeout. */
export type ClientResult<Stdout = string> = RunResult<Stdout>;

/**
 * Runs curl with `--silent --show-error` and `args`. stdout is a Buffer because curl writes downloaded
 * file bodies there unless `-o` is given.
 */
export function curl(args: string[], options: ClientOptions = {}): Promise<ClientResult<Buffer>> {
  return runCommand('curl', ['--silent', '--show-error', ...args], options);
}

/**
 * lftp must never wait for a person and should give up quickly: one try, short timeouts, no TLS upgrade
 * attempt, overwrite local files, and exit non-zero at the first failing command.
 */
const LFTP_SETTINGS = [
  'set cmd:interactive no',
  'set cmd:fail-exit yes',
  'set net:max-retries 1',
  'set net:persist-retries 0',
  'set net:timeout 10',
  'set net:reconnect-interval-base 1',
  'set ftp:ssl-allow no',
  'set xfer:clobber yes',
  'set xfer:log no',
].join('; ');

/** Runs `lftp -c '<settings>; <script>'`, e.g. `open -u user,pass ftp://127.0.0.1:2121; cls -1`. */
export async function lftp(script: string, options: ClientOptions = {}): Promise<ClientResult> {
  const run = await runCommand('lftp', ['--norc', '-c', `${LFTP_SETTINGS}; ${script}`], options);
  return { ...run, stdout: run.stdout.toString('utf8') };
}

/**
 * lftp settings for FTPS towards a server whose certificate `caFile` verifies: AUTH TLS forced (or
 * implicit with an ftps:// URL) and PROT P unless `protectData` is false.
 */
export function lftpTls(caFile: string, protectData = true): string {
  return [
    'set ftp:ssl-allow yes',
    'set ftp:ssl-force yes',
    `set ftp:ssl-protect-data ${protectData ? 'yes' : 'no'}`,
    `set ftp:ssl-protect-list ${protectData ? 'yes' : 'no'}`,
    'set ssl:verify-certificate yes',
    `set ssl:ca-file ${caFile}`,
  ].join('; ');
}
