import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseKbFields, processMemory, treeMemory } from '../../../bench/process-memory.js';

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
});
