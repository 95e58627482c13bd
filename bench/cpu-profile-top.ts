/**
 * The top frames by self time of V8 CPU profiles (`node --cpu-prof`), summed over the files given:
 *
 *   node dist/bench/cpu-profile-top.js [--top 15] DIR-or-FILE.cpuprofile...
 *
 * Frames are grouped by function name and file (the repository path or node's own module), so the
 * same function seen in several workers adds up. Idle time ("(idle)") is left out of the percentages,
 * and so is start-up (samples under Node's module loader), which a short benchmark run would
 * otherwise be mostly about.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function files(args: string[]): string[] {
  return args.flatMap((arg) =>
    statSync(arg).isDirectory()
      ? readdirSync(arg)
          .filter((name) => name.endsWith('.cpuprofile'))
          .map((name) => join(arg, name))
      : [arg],
  );
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\/.*?\/(dist\/)?/, '').replace(/^node:/, 'node:');
  return `${functionName || '(anonymous)'} ${file ? `${file.includes('/') ? file : basename(file)}:${lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  const topAt = process.argv.indexOf('--top');
  const top = topAt >= 0 ? Number(process.argv[topAt + 1]) : 15;
  const args = process.argv.slice(2).filter((arg, i, all) => arg !== '--top' && all[i - 1] !== '--top');
  const selfUs = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let startup = 0;
  for (const file of files(args)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const loading = new Map<number, boolean>();
    const isLoading = (id: number): boolean => {
      const known = loading.get(id);
      if (known !== undefined) return known;
      const url = byId.get(id)?.callFrame.url ?? '';
      const up = parent.get(id);
      const result =
        /internal\/modules\/|internal\/bootstrap\//.test(url) || (up !== undefined && isLoading(up));
      loading.set(id, result);
      return result;
    };
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!node) return;
      if (isLoading(id)) {
        startup += us;
        return;
      }
      const name = frameName(node);
      if (name.startsWith('(idle)')) {
        idle += us;
        return;
      }
      busy += us;
      selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    });
  }
  const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top);
  process.stdout.write(
    `busy ${(busy / 1e6).toFixed(2)} s (start-up left out: ${(startup / 1e6).toFixed(2)} s), idle ${(idle / 1e6).toFixed(2)} s\n`,
  );
  process.stdout.write('| self ms | % of busy | frame |\n|---|---|---|\n');
  for (const [name, us] of rows) {
    process.stdout.write(`| ${(us / 1000).toFixed(0)} | ${((us / busy) * 100).toFixed(1)} | ${name} |\n`);
  }
}

main();
