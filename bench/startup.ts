/**
 * The start-up benchmark (`npm run bench:startup [-- --runs 5]`): launch → "listening on" of
 * `dist/edge-worker/cli.js serve` with a YAML config (one reverse FTP listener on loopback, the
 * embedded store), with `--workers 1` (as the conformance tests start it) and `--workers auto`, and
 * the memory of every process right after start (bench/process-memory.ts: RSS, PSS, private). Median of the runs. No
 * connection is made to the listener. Writes bench/results/startup-<time>.json and .md.
 * `--settle-s S` reads the memory S seconds after listening instead of 3 (V8 gives start-up's heap
 * growth back when it finds the process idle, 30–60 s later); `--cli FILE` starts another build's
 * `cli.js` (a copy of an older `dist/`, for before/after in one sitting).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type TreeMemory, treeMemory } from './process-memory.js';
import { startServe } from './serve-process.js';
import { median, round1 } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  workers: string;
  listeningMs: number[];
  medianMs: number;
  cpuMs: number[];
  medianCpuMs: number;
  memory: TreeMemory;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      'settle-s': { type: 'string', default: '3' },
      cli: { type: 'string' },
    },
  });
  const runs = Math.min(20, Math.max(1, Number(values.runs)));
  const settleMs = Math.max(0, Number(values['settle-s'])) * 1000;
  const rows: Row[] = [];
  const load = loadavg()[0] ?? 0;
  for (const workers of ['1', 'auto']) {
    const times: number[] = [];
    const cpu: number[] = [];
    let memory: TreeMemory | undefined;
    for (let run = 0; run < runs; run++) {
      const dir = await mkdtemp(join(tmpdir(), 'ftpx-bench-startup-'));
      const config = join(dir, 'ftpx.yaml');
      await writeFile(
        config,
        [
          `dataDir: ${join(dir, 'data')}`,
          'log: { level: warn }',
          'listeners:',
          '  - { address: 127.0.0.1, port: 0, pool: main }',
          'pools:',
          // Never connected to: no client comes.
          '  - { name: main, backends: [ftp://127.0.0.1:21] }',
          '',
        ].join('\n'),
      );
      const proxy = await startServe(config, { workers, ...(values.cli ? { cli: values.cli } : {}) });
      times.push(round1(proxy.listeningMs));
      cpu.push(proxy.cpuMs);
      if (run === runs - 1) {
        await sleep(settleMs);
        memory = await treeMemory(proxy.pid);
      }
      await proxy.stop();
      await rm(dir, { recursive: true, force: true });
    }
    if (!memory) throw new Error('no memory reading');
    rows.push({
      workers,
      listeningMs: times,
      medianMs: round1(median(times)),
      cpuMs: cpu,
      medianCpuMs: median(cpu),
      memory,
    });
    console.log(JSON.stringify(rows.at(-1)));
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const markdown = [
    `# Start-up (${stamp})`,
    '',
    `\`node dist/edge-worker/cli.js serve --config ftpx.yaml --workers W\`, launch to "listening on", ${runs} runs; ${availableParallelism()} cores, load average ${round1(load)} at the start (the machine is shared: times are indicative). Memory ${settleMs / 1000} s after listening, before any session.${values.cli ? ` Build: \`${values.cli}\`.` : ''}`,
    '',
    '| workers | processes | launch → listening, median ms | runs ms | CPU ms until listening (all processes), median | RSS MiB (sum) | private MiB (sum) | unique MiB | PSS MiB (sum; anon + file) | distinct MiB (each page once) | per process RSS / PSS / private MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${r.memory.processes.length} | ${r.medianMs} | ${r.listeningMs.join(', ')} | ${r.medianCpuMs} | ${r.memory.rssMiB} | ${r.memory.privateMiB} | ${r.memory.uniqueMiB} | ${r.memory.pssMiB} (${r.memory.pssAnonMiB} + ${r.memory.pssFileMiB}) | ${r.memory.distinctMiB ?? '–'} | ${r.memory.processes.map((p) => `${p.role} ${p.rssMiB} / ${p.pssMiB} / ${p.privateMiB}`).join('; ')} |`,
    ),
    '',
  ].join('\n');
  await writeFile(
    join('bench', 'results', `startup-${stamp}.json`),
    `${JSON.stringify({ load, settleMs, cli: values.cli ?? null, rows }, null, 2)}\n`,
  );
  await writeFile(join('bench', 'results', `startup-${stamp}.md`), markdown);
  console.log(markdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
