import { open, readdir, readFile } from 'node:fs/promises';

/**
 * Memory of a process tree (ftpx's primary and its workers) from /proc: RSS as `ps` shows it, the
 * private part (pages no other process maps), and PSS (proportional set size: each page divided by
 * the number of processes mapping it), each summed over the tree. RSS counts the node binary's code
 * (~34 MiB, the same pages in every Node process) once per process; PSS counts a third of it in each
 * of three processes that share it, so PSS summed over the tree is the tree's share of the machine's
 * memory. The kernel computes it exactly (proc(5), /proc/PID/smaps_rollup); what it cannot say alone
 * is what the tree would cost with no other Node process on the machine: pages it shares with
 * processes outside the tree are split with them too (this benchmark's own Node process maps the
 * node binary as well, and takes its share). "unique" (private of every process plus the largest
 * shared set once) estimates that; `distinctMiB` counts it exactly where /proc/PID/pagemap shows
 * physical frame numbers (root): every page any process of the tree maps, each once.
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
  /** Every resident page of the tree once, by physical frame; undefined without the right to see frames. */
  distinctMiB: number | undefined;
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
    distinctMiB: await distinctMiB(processes.map((p) => p.pid)),
  };
}

/** The address ranges of a process's mappings that have resident pages (from /proc/PID/smaps). */
export function residentRanges(smaps: string): [number, number][] {
  const ranges: [number, number][] = [];
  let range: [number, number] | undefined;
  for (const line of smaps.split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (mapping) {
      range = [Number.parseInt(mapping[1] as string, 16), Number.parseInt(mapping[2] as string, 16)];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && range && Number(rss[1]) > 0) ranges.push(range);
  }
  return ranges;
}

const PAGE = 4096;
/** pagemap entries read at once: 8 bytes per page, 4 MiB of address space per read. */
const ENTRIES_PER_READ = 1024;

/**
 * The physical frames of every resident page of `pids` (pagemap(5): bit 63 present, bits 0–54 the
 * frame number, which reads as 0 without CAP_SYS_ADMIN), counted once. A page shared by the three
 * processes (the node binary's code) counts once; so do pages that other processes on the machine
 * also map, which is the difference from PSS.
 */
export async function distinctMiB(pids: number[]): Promise<number | undefined> {
  const frames = new Set<number>();
  let present = 0;
  const buffer = Buffer.alloc(ENTRIES_PER_READ * 8);
  for (const pid of pids) {
    const ranges = residentRanges(await readFile(`/proc/${pid}/smaps`, 'utf8'));
    const pagemap = await open(`/proc/${pid}/pagemap`, 'r');
    try {
      for (const [start, end] of ranges) {
        for (let page = start / PAGE; page < end / PAGE; page += ENTRIES_PER_READ) {
          const count = Math.min(ENTRIES_PER_READ, end / PAGE - page);
          const { bytesRead } = await pagemap.read(buffer, 0, count * 8, page * 8);
          for (let offset = 0; offset + 8 <= bytesRead; offset += 8) {
            const high = buffer.readUInt32LE(offset + 4);
            if ((high & 0x8000_0000) === 0) continue;
            present += 1;
            const frame = (high & 0x7f_ffff) * 2 ** 32 + buffer.readUInt32LE(offset);
            if (frame !== 0) frames.add(frame);
          }
        }
      }
    } finally {
      await pagemap.close();
    }
  }
  if (present > 0 && frames.size === 0) return undefined;
  return round1((frames.size * PAGE) / 1048576);
}
