import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './binaries.js';

export interface ProxyProcess {
  pid: number;
  port: number;
  /** Everything the process wrote to standard error so far (its JSON log lines included). */
  stderr(): string;
  /** Sends a signal (SIGHUP reloads, SIGTERM drains). */
  signal(signal: NodeJS.Signals): void;
  /**
   * Sends a signal to the whole process group, as `kill -TERM -PGID` and systemd's
   * KillMode=control-group do (needs `processGroup: true`).
   */
  signalGroup(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null when a signal ended it) once the process exited. */
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

/** The built CLI (npm run build), run the way `npx ftpx` runs it. */
export function cliPath(): string {
  return join(repoRoot, 'dist', 'edge-worker', 'cli.js');
}

/**
 * Runs `ftpx serve` as its own process, as users do: from a YAML config (written here) or from a
 * given config file, and waits until it says it is listening.
 */
export async function startProxyProcess(
  options: ({ backends: string[]; port: number } | { args: string[]; port: number }) & {
    /** Start it as the leader of its own process group (as a service manager does). */
    processGroup?: boolean;
    /** Options for node itself, before the script (e.g. `--cpu-prof` in the benchmarks). */
    nodeOptions?: string[];
    /** Variables added to the environment it inherits. */
    env?: Record<string, string>;
    /** Another build's dist/edge-worker/cli.js (a benchmark's side-by-side baseline). */
    cli?: string;
    /** `serve --workers`: 1 unless given. */
    workers?: string;
    /** The written config's log level (warn unless given: tests that read log lines ask for more). */
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
  },
): Promise<ProxyProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-cli-'));
  let args: string[];
  if ('backends' in options) {
    const config = join(dir, 'ftpx.yaml');
    await writeFile(
      config,
      [
        `dataDir: ${join(dir, 'data')}`,
        `log: { level: ${options.logLevel ?? 'warn'} }`,
        'listeners:',
        `  - { address: 127.0.0.1, port: ${options.port}, pool: main }`,
        'pools:',
        '  - name: main',
        `    backends: [${options.backends.join(', ')}]`,
        '',
      ].join('\n'),
    );
    args = ['serve', '--config', config];
  } else {
    args = options.args;
  }
  // Today's single-process behaviour unless a test asks for worker processes.
  if (args[0] === 'serve' && !args.includes('--workers'))
    args = [...args, '--workers', options.workers ?? '1'];
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), options.cli ?? cliPath(), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.processGroup === true,
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr += text;
  });
  try {
    await waitForStart(child, () => stderr.includes(`:${options.port} (pool`), 'ftpx');
  } catch (err) {
    child.kill('SIGKILL');
    if (err instanceof Error) err.message += `:\n${stderr}`;
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    pid: child.pid ?? -1,
    port: options.port,
    stderr: () => stderr,
    signal: (signal) => {
      child.kill(signal);
    },
    signalGroup: (signal) => {
      if (options.processGroup !== true || child.pid === undefined) {
        throw new Error('signalGroup needs startProxyProcess({ processGroup: true })');
      }
      process.kill(-child.pid, signal);
    },
    exited: () => exit,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once `ready()` holds, checked whenever the child writes to stderr; rejects when the child
 * exits first or after 15 s. `what` names the process in the error.
 */
export function waitForStart(child: ChildProcess, ready: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what} did not start within 15 s`)), 15_000);
    const check = () => {
      if (ready()) done();
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited with ${code} while starting`));
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}
