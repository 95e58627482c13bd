import { readdir, readFile } from 'node:fs/promises';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms. */
const CLOCK_TICKS = 100;

/**
 * CPU seconds (user + system) of `pid` and every process below it: each live process's own time
 * plus what its reaped children used (cutime + cstime), so sessions that forked and ended (sshd,
 * proftpd) are counted once. 0 for a process that is gone.
 */
export async function processTreeCpuSeconds(pid: number): Promise<number> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields 14-17 of /proc/<pid>/stat (utime, stime, cutime, cstime), counted after the command name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  let seconds = 0;
  for (const child of await childPids(pid)) seconds += await processTreeCpuSeconds(child);
  ticks = Number.isFinite(ticks) ? ticks : 0;
  return ticks / CLOCK_TICKS + seconds;
}

async function childPids(pid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    pids.push(...text.split(' ').filter(Boolean).map(Number));
  }
  return pids;
}

/**
 * Waits (at most `timeoutMs`) until `pid` has no child processes: a forking server's session
 * process must be reaped before its CPU time shows in the parent's cutime.
 */
export async function childrenReaped(pid: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await childPids(pid)).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
