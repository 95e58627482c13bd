import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  distinctMiB,
  parseKbFields,
  processMemory,
  residentRanges,
  treeMemory,
} from '../../../bench/process-memory.js';

describe('bench/process-memory', () => {
  it('reads every kB field of smaps_rollup, the PSS split included', async () => {
    const fields = parseKbFields(await readFile('/proc/self/smaps_rollup', 'utf8'));
    const rss = fields.get('Rss') ?? 0;
    const pss = fields.get('Pss') ?? 0;
    expect(rss).toBeGreaterThan(10_000);
    // PSS lies between the private pages and RSS, and is its anonymous, file and shmem parts.
    const privateKib = (fields.get('Private_Clean') ?? 0) + (fields.get('Private_Dirty') ?? 0);
    expect(pss).toBeGreaterThanOrEqual(privateKib);
    expect(pss).toBeLessThanOrEqual(rss);
    expect(
      (fields.get('Pss_Anon') ?? 0) + (fields.get('Pss_File') ?? 0) + (fields.get('Pss_Shmem') ?? 0),
    ).toBe(pss);
    expect(fields.get('Pss_Anon')).toBeGreaterThan(0);
    expect(fields.get('Pss_File')).toBeGreaterThan(0);
  });

  it('reads a status file (tabs, lines without kB)', () => {
    const fields = parseKbFields('Name:\tnode\nVmRSS:\t   91234 kB\nThreads:\t11\n');
    expect([...fields]).toEqual([['VmRSS', 91234]]);
  });

  it('gives this process its PSS, and sums it over a tree', async () => {
    const self = await processMemory(process.pid, 'test');
    expect(self.pssMiB).toBeGreaterThan(self.privateMiB - 0.2);
    expect(self.pssMiB).toBeLessThan(self.rssMiB + 0.2);
    expect(Math.abs(self.pssAnonMiB + self.pssFileMiB - self.pssMiB)).toBeLessThan(0.3);
    const tree = await treeMemory(process.pid);
    const sum = tree.processes.reduce((s, p) => s + p.pssMiB, 0);
    expect(Math.abs(tree.pssMiB - sum)).toBeLessThan(0.1 * tree.processes.length + 0.1);
    expect(tree.pssMiB).toBeGreaterThan(0);
    expect(tree.pssMiB).toBeLessThanOrEqual(tree.rssMiB + 0.1);
  });

  it('lists the mappings that have resident pages', () => {
    const smaps = [
      '00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/node',
      'Size:                328 kB',
      'Rss:                 300 kB',
      '7f0000000000-7f0000100000 ---p 00000000 00:00 0',
      'Size:               1024 kB',
      'Rss:                   0 kB',
      '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
      'Rss:                  12 kB',
    ].join('\n');
    expect(residentRanges(smaps)).toEqual([
      [0x400000, 0x452000],
      [0x7ffd00000000, 0x7ffd00021000],
    ]);
  });

  it('counts every resident page once, by physical frame', async (context) => {
    const once = await distinctMiB([process.pid]);
    // Frame numbers need CAP_SYS_ADMIN (pagemap(5)); without it there is nothing to count.
    if (once === undefined) context.skip();
    const { rssMiB } = await processMemory(process.pid, 'test');
    // One process: its resident pages, RSS (a page it maps twice counts once; the heap moves between reads).
    expect(once).toBeGreaterThan(rssMiB * 0.9);
    expect(once).toBeLessThan(rssMiB * 1.1);
    // The same process twice: the same pages, not twice as many.
    const twice = (await distinctMiB([process.pid, process.pid])) ?? 0;
    expect(twice).toBeLessThan(rssMiB * 1.1);
  });
});
