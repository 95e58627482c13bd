import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

const STOP_GRACE_MS = 2_000;

/** A server started in its own process group, with its work dir removed when it is stopped. */
export interface ServerProcess {
  pid: number;
  /** File that receives the server's stdout and stderr. */
  outputFile: string;
  /** Set once the process has exited, e.g. "exit code 1" or "signal SIGKILL". */
  exitStatus(): string | undefined;
  /** Idempotent: SIGTERM to the group, SIGKILL after a grace period, then removes the work dir. */
  stop(): Promise<void>;
}

/**
 * Every server still running, so that a test run that dies without calling stop() leaves none behind:
 * pid (which is also the process group id) -> work dir.
 */
const live = new Map<number, string>();

/** Spawns `command` with `workDir` as cwd; the caller owns `workDir` from then on only through stop(). */
export function spawnServer(command: string, args: string[], workDir: string): ServerProcess {
  installExitHooks();
  const outputFile = `${workDir}/server.out`;
  // Readable and writable, because it is stdin too: vsftpd reports startup failures on fd 0, which is
  // its control connection when run from inetd.
  const output = openSync(outputFile, 'a+');
  // detached: the server leads its own process group, so one kill reaches the sessions it forked too.
  const child = spawn(command, args, { cwd: workDir, detached: true, stdio: [output, output, output] });
  closeSync(output);
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      status ??= `spawn error: ${error.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      status = code === null ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
  });
  // A forgotten server must not keep the test worker alive; the exit hook still kills it.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    return {
      pid: -1,
      outputFile,
      exitStatus: () => status ?? 'spawn failed',
      stop: () => rm(workDir, { recursive: true, force: true }),
    };
  }
  live.set(pid, workDir);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (status === undefined) {
      killGroup(pid, 'SIGTERM');
      await Promise.race([exited, delay(STOP_GRACE_MS)]);
      if (status === undefined) killGroup(pid, 'SIGKILL');
      await exited;
    }
    // Sessions may outlive their master; the group id stays reserved while any of them is alive.
    killGroup(pid, 'SIGKILL');
    live.delete(pid);
    await rm(workDir, { recursive: true, force: true });
  };
  return {
    pid,
    outputFile,
    exitStatus: () => status,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

function killAllSync(): void {
  for (const [pid, workDir] of live) {
    killGroup(pid, 'SIGKILL');
    try {
      rmSync(workDir, { recursive: true, force: true });
    } catch {
      // Best effort while the process is going away.
    }
  }
  live.clear();
}

let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous, hence the sync kill and rm.
  process.on('exit', killAllSync);
  // A signal ends the process without 'exit'. Once our handler has run, re-raise the signal for its
  // default action, unless someone else (e.g. the test runner) handles it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
