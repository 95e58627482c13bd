import { readdir, readFile } from 'node:fs/promises';

/**
 * Memory of a process tree (ftpx's primary and its workers) from /proc: RSS as `ps` shows it, the
 * private part (pages no other process maps), and PSS (proportional set size: each page divided by
 * the number of processes mapping it), each summed over the tree. RSS counts the node binary's code
 * (~34 MiB, the same pages in every Node process) once per process; PSS counts a third of it in each
 * of three processes that share it, so PSS summed over the tree is the tree's share of the machine's
 * memory. The kernel computes it exactly (proc(5), /proc/PID/smaps_rollup); what it cannot say alone
 * is what the tree would cost with no other Node process on the machine: pages it shares with
 * processes outside the tree are split with them too. "unique" (private of every process plus the
 * largest shared set once) is that upper estimate.
 */
export interface ProcessMemory {
  pid: number;
  role: string;
  rssMiB: number;
  privateMiB: number;
  sharedMiB: number;
  pssMiB: number;
  /** PSS of anonymous pages (heap, stacks, buffers): the process's own memory. */
  pssAnonMiB: number;
  /** PSS of file pages (the node binary, libraries, native addons). */
  pssFileMiB: number;
}

export interface TreeMemory {
  processes: ProcessMemory[];
  rssMiB: number;
  privateMiB: number;
  /** Private pages of every process plus the largest shared set once. */
  uniqueMiB: number;
  pssMiB: number;
  pssAnonMiB: number;
  pssFileMiB: number;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The `Name:  N kB` lines of /proc/PID/smaps_rollup (or status) as kB by name. */
export function parseKbFields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) {
    fields.set(match[1] as string, Number(match[2]));
  }
  return fields;
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
  const status = parseKbFields(await readFile(`/proc/${pid}/status`, 'utf8'));
  // One read: the kernel walks every mapping of the process to make the rollup.
  const rollup = parseKbFields(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
  const kib = (fields: Map<string, number>, ...names: string[]) =>
    names.reduce((sum, name) => sum + (fields.get(name) ?? 0), 0);
  const mib = (value: number) => round1(value / 1024);
  return {
    pid,
    role,
    rssMiB: mib(kib(status, 'VmRSS')),
    privateMiB: mib(kib(rollup, 'Private_Clean', 'Private_Dirty')),
    sharedMiB: mib(kib(rollup, 'Shared_Clean', 'Shared_Dirty')),
    pssMiB: mib(kib(rollup, 'Pss')),
    pssAnonMiB: mib(kib(rollup, 'Pss_Anon')),
    pssFileMiB: mib(kib(rollup, 'Pss_File')),
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
    pssMiB: sum((p) => p.pssMiB),
    pssAnonMiB: sum((p) => p.pssAnonMiB),
    pssFileMiB: sum((p) => p.pssFileMiB),
  };
}
