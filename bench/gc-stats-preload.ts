/**
 * A preload that counts a process's garbage collections, for the benchmarks:
 *   FTPX_BENCH_NODE_ARGS="--import ./dist/bench/gc-stats-preload.js" FTPX_GC_STATS=/tmp/gc.log npm run bench:sftp
 * Every process that loads it (ftpx, its workers, the ssh2 relay) appends one line to the file named by
 * FTPX_GC_STATS when it exits: its pid, its script, and per kind of collection (minor = scavenge,
 * major = mark-compact, incremental = incremental marking steps) the count and the milliseconds.
 * Counts do not move with the load of a shared machine as CPU times do.
 */
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.FTPX_GC_STATS;
if (file) {
  const kinds = new Map<number, string>([
    [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
    [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
    [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weak callbacks'],
  ]);
  const totals: Record<string, { count: number; ms: number }> = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number } }).detail;
      const kind = kinds.get(detail?.kind ?? -1) ?? 'other';
      const total = totals[kind] ?? { count: 0, ms: 0 };
      total.count += 1;
      total.ms += entry.duration;
      totals[kind] = total;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    const summary = Object.entries(totals)
      .map(([kind, { count, ms }]) => `${kind} ${count} (${Math.round(ms)} ms)`)
      .join(', ');
    appendFileSync(file, `${process.pid} ${process.argv[1] ?? ''}: ${summary}\n`);
  });
}
