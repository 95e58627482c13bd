import { readdir, readFile } from 'node:fs/promises';

/**
 * Memory of a process tree (ftpx's primary and its workers) from /proc: RSS as `ps` shows it, and
 * the private part (pages no other process maps) summed over the tree. RSS counts the node binary's
 * code (~34 MiB, the same pages in every Node process) once per process; the private sum plus one
 * copy of the shared pages is what the tree costs the machine.
 */
export interface ProcessMemory {
  pid: number;
  role: string;
  rssMiB: number;
  privateMiB: number;
  sharedMiB: number;
}

export interface TreeMemory {
  processes: ProcessMemory[];
  rssMiB: number;
  privateMiB: number;
  /** Private pages of every process plus the largest shared set once. */
  uniqueMiB: number;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

async function kib(file: string, field: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
}

/** The direct children of `pid` (node:cluster workers are children of the primary). */
export async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    children.push(...text.split(' ').filter(Boolean).map(Number));
  }
  return children;
}

export async function processMemory(pid: number, role: string): Promise<ProcessMemory> {
  const rollup = `/proc/${pid}/smaps_rollup`;
  const rss = await kib(`/proc/${pid}/status`, 'VmRSS');
  const privateKib = (await kib(rollup, 'Private_Clean')) + (await kib(rollup, 'Private_Dirty'));
  const shared = (await kib(rollup, 'Shared_Clean')) + (await kib(rollup, 'Shared_Dirty'));
  return {
    pid,
    role,
    rssMiB: round1(rss / 1024),
    privateMiB: round1(privateKib / 1024),
    sharedMiB: round1(shared / 1024),
  };
}

/** The primary and its workers (or the single process of `--workers 1`). */
export async function treeMemory(pid: number): Promise<TreeMemory> {
  const children = await childrenOf(pid);
  const processes = await Promise.all([
    processMemory(pid, children.length > 0 ? 'primary' : 'single process'),
    ...children.map((child, index) => processMemory(child, `worker ${index + 1}`)),
  ]);
  const sum = (pick: (p: ProcessMemory) => number) => round1(processes.reduce((s, p) => s + pick(p), 0));
  return {
    processes,
    rssMiB: sum((p) => p.rssMiB),
    privateMiB: sum((p) => p.privateMiB),
    uniqueMiB: round1(sum((p) => p.privateMiB) + Math.max(...processes.map((p) => p.sharedMiB))),
  };
}
