import { spawn } from 'node:child_process';

export interface RunOptions {
  /** SIGKILL the command after this long. Defaults to 60 s. */
  timeoutMs?: number;
  cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** The command's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult<Stdout = Buffer> {
  /** null when the command was killed by a signal (always so after a timeout). */
  code: number | null;
  /** The signal that ended the command, if one did. */
  signal: NodeJS.Signals | null;
  stdout: Stdout;
  stderr: string;
  timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Runs a command to completion, capturing its output; it never rejects because of how the command ended. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A command that exits without reading its stdin must not turn into an EPIPE error here.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      });
    });
  });
}
