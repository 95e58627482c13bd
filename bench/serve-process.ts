import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeProcess {
  pid: number;
  /** Launch to the "listening on" line, in ms. */
  listeningMs: number;
  /**
   * CPU time (user + system) the process and its workers had used by then, in ms: less sensitive
   * than the wall time to other jobs on a shared machine.
   */
  cpuMs: number;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * `node dist/edge-worker/cli.js serve --config FILE --workers N` as users start it, timed from spawn
 * to its "listening on" line. The deadline is generous: on a loaded machine start-up is slow, and
 * that is a figure, not a failure.
 */
export async function startServe(
  config: string,
  options: { workers: string; nodeArgs?: string[]; deadlineMs?: number; cwd?: string; cli?: string },
): Promise<ServeProcess> {
  const cli = options.cli ?? join(repoRoot, 'dist', 'edge-worker', 'cli.js');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), cli, 'serve', '--config', config, '--workers', options.workers],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // A session of its own, as the servers and mod_proxy get (test/support/process.ts) and as a
      // service manager gives each service its own cgroup: with sched_autogroup the kernel shares
      // the CPU between sessions first, so an ftpx in the benchmark's own session would share one
      // share with the curls it serves and wait ~5x longer per wakeup (bench/README.md, splice).
      detached: true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ftpx did not listen within ${options.deadlineMs ?? 120_000} ms:\n${stderr}`));
    }, options.deadlineMs ?? 120_000);
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (stderr.includes('ftpx: listening on')) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ftpx exited with ${code} while starting:\n${stderr}`));
    });
  });
  const listeningMs = await listening;
  const pid = child.pid ?? -1;
  const cpuMs = [pid, ...childPids(pid)].reduce((sum, each) => sum + cpuTimeMs(each), 0);
  return {
    pid,
    listeningMs,
    cpuMs,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** user + system time of one process from /proc/PID/stat (clock ticks of 10 ms); 0 once it is gone. */
function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
