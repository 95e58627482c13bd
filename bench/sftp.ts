/**
 * SFTP throughput: OpenSSH's sftp client downloading and uploading one file directly from a Debian
 * OpenSSH sshd, through ftpx (audit on and off), through a bare ssh2 relay (bench/ssh2-relay.ts: the
 * least any ssh2-based relay does, the CPU reference) and through ProFTPD's mod_proxy, interleaved
 * round by round, with each relay's and sshd's CPU seconds per GiB. Part of `npm run bench`; alone:
 *   npm run bench:sftp -- [--size MiB] [--rounds N] [--targets direct,ftpx,ftpx-noaudit,ssh2,mod_proxy]
 *                         [--directions down,up] [--cpu-prof DIR] [--workers N|auto]
 *                         [--baseline OTHER-CHECKOUT/dist/edge-worker/cli.js]
 * (BENCH_SFTP_MIB and BENCH_ROUNDS set the defaults, 256 and 3.) Writes bench/results/sftp-<time>.json and .md. `--cpu-prof DIR` runs ftpx and the
 * ssh2 relay under `node --cpu-prof`, one .cpuprofile per process in DIR. `--workers` is ftpx's
 * (1 unless given). `--baseline` adds the target `ftpx-baseline`: the audited listener served by
 * another build, side by side (before and after a change in one run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRandomFile } from '../test/support/files.js';
import { freePort } from '../test/support/ports.js';
import { type ModProxySftp, startModProxySftp } from '../test/support/proftpd-mod-proxy-sftp.js';
import { waitForStart } from '../test/support/proxy-process.js';
import { sftpBatch } from '../test/support/ssh-clients.js';
import { makeKeyPair, startSshd } from '../test/support/sshd.js';
import { childrenReaped, processTreeCpuSeconds } from './process-cpu.js';
import { type ServeProcess, startServe } from './serve-process.js';
import { median, ratio, round1, round2 } from './stats.js';

export const SFTP_TARGETS = ['direct', 'ftpx', 'ftpx-noaudit', 'ftpx-baseline', 'ssh2', 'mod_proxy'] as const;
export type SftpTarget = (typeof SFTP_TARGETS)[number];

const LABELS: Record<SftpTarget, string> = {
  direct: 'direct (OpenSSH sshd)',
  ftpx: 'through ftpx',
  'ftpx-noaudit': 'through ftpx (sftp.audit off)',
  'ftpx-baseline': 'through ftpx, baseline build',
  ssh2: 'bare ssh2 relay',
  mod_proxy: 'ProFTPD mod_proxy',
};

export interface SftpRow {
  target: string;
  downloadMiBps?: number;
  uploadMiBps?: number;
  /** The relay's processes (ftpx, the ssh2 relay, proftpd with its sessions): user+system CPU s per GiB. */
  relayCpuDownload?: number;
  relayCpuUpload?: number;
  /** The backend sshd's CPU s per GiB (for direct: the whole server side). */
  sshdCpuDownload?: number;
  sshdCpuUpload?: number;
  /** Transfers that failed (left out of the figures). */
  failures?: string[];
}

export interface SftpBenchResult {
  sizeMiB: number;
  rounds: number;
  /** ssh2's channel window in this run (patches/ssh2+1.17.0.patch raises it). */
  ssh2WindowMiB: number;
  /** ftpx's --workers in this run. */
  workers: string;
  /** The build measured as ftpx-baseline, when one was. */
  baselineCli?: string;
  rows: SftpRow[];
}

export interface SftpBenchOptions {
  sizeMiB: number;
  rounds: number;
  targets?: readonly SftpTarget[];
  directions?: readonly ('down' | 'up')[];
  /** Directory for `node --cpu-prof` profiles of ftpx and the ssh2 relay. */
  cpuProfDir?: string;
  /** ftpx's `--workers` (default 1). */
  workers?: string;
  /** Another build's dist/edge-worker/cli.js, measured as `ftpx-baseline`. */
  baselineCli?: string;
}

async function ssh2WindowMiB(): Promise<number> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const file = join(require.resolve('ssh2/package.json'), '..', 'lib', 'Channel.js');
  const match = /const MAX_WINDOW = (\d+) \* 1024 \* 1024/.exec(await readFile(file, 'utf8'));
  return Number(match?.[1] ?? 0);
}

interface Endpoint {
  target: SftpTarget;
  port: number;
  /** The relay's root process (none for direct). */
  pid?: number;
}

export async function sftpBench(options: SftpBenchOptions): Promise<SftpBenchResult> {
  const { sizeMiB, rounds } = options;
  const targets = options.targets ?? SFTP_TARGETS;
  const directions = options.directions ?? ['down', 'up'];
  // FTPX_BENCH_NODE_ARGS: node options for ftpx and the ssh2 relay alike (V8 flags to compare, a preload).
  const nodeOptions = [
    ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfDir)}`] : []),
    ...(process.env.FTPX_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  if (options.cpuProfDir) await mkdir(options.cpuProfDir, { recursive: true });
  const sshd = await startSshd();
  const proxies: ServeProcess[] = [];
  let relay: ChildProcess | undefined;
  let modProxy: ModProxySftp | undefined;
  try {
    const scratch = sshd.workDir;
    const sshdPid = Number((await readFile(join(scratch, 'sshd.pid'), 'utf8')).trim());
    const hostKey = join(scratch, 'proxy_host_ed25519');
    await makeKeyPair(hostKey, 'ed25519');
    const bytes = sizeMiB * 1024 * 1024;
    const remote = join(sshd.dataDir, 'download.bin');
    const local = join(scratch, 'upload.bin');
    if (directions.includes('down')) await makeRandomFile(remote, bytes);
    if (directions.includes('up')) await makeRandomFile(local, bytes);
    const endpoints: Endpoint[] = [];
    if (targets.includes('direct')) endpoints.push({ target: 'direct', port: sshd.port });
    const listener = (listenPort: number, audit: boolean) =>
      `  - { address: 127.0.0.1, port: ${listenPort}, pool: main, protocol: sftp, sftp: { audit: ${audit}, hostKeys: [${hostKey}] } }`;
    // This build serves ftpx (audit on) and ftpx-noaudit (off); another build, when given, the
    // baseline's audited listener with the same settings.
    const builds: { cli?: string; targets: SftpTarget[] }[] = [
      { targets: ['ftpx', 'ftpx-noaudit'] },
      ...(options.baselineCli ? [{ cli: options.baselineCli, targets: ['ftpx-baseline' as const] }] : []),
    ];
    for (const build of builds) {
      const wanted = build.targets.filter((target) => targets.includes(target));
      if (wanted.length === 0) continue;
      const ports = new Map<SftpTarget, number>();
      for (const target of wanted) ports.set(target, await freePort());
      const config = join(scratch, `${wanted[0]}.yaml`);
      await writeFile(
        config,
        [
          `dataDir: ${join(scratch, `${wanted[0]}-data`)}`,
          'log: { level: warn }',
          'listeners:',
          ...wanted.map((target) => listener(ports.get(target) ?? 0, target !== 'ftpx-noaudit')),
          'pools:',
          '  - name: main',
          `    backends: [${sshd.url}]`,
          '',
        ].join('\n'),
      );
      const proxy = await startServe(config, {
        workers: options.workers ?? '1',
        nodeArgs: nodeOptions,
        ...(build.cli ? { cli: build.cli } : {}),
      });
      proxies.push(proxy);
      for (const target of wanted) endpoints.push({ target, port: ports.get(target) ?? 0, pid: proxy.pid });
    }
    if (targets.includes('ssh2')) {
      const port = await freePort();
      const script = join(import.meta.dirname, 'ssh2-relay.js');
      relay = spawn(process.execPath, [...nodeOptions, script, String(port), hostKey, String(sshd.port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        // A session of its own, as ftpx and the servers get (serve-process.ts says why).
        detached: true,
      });
      let stderr = '';
      relay.stderr?.setEncoding('utf8');
      relay.stderr?.on('data', (text: string) => {
        stderr += text;
      });
      await waitForStart(relay, () => stderr.includes('listening'), 'ssh2 relay');
      endpoints.push({ target: 'ssh2', port, pid: relay.pid ?? -1 });
    }
    if (targets.includes('mod_proxy')) {
      modProxy = await startModProxySftp(sshd.url);
      endpoints.push({ target: 'mod_proxy', port: modProxy.port, pid: modProxy.pid });
    }
    const auth = { password: sshd.user.password };
    const samples = new Map(
      endpoints.map((e) => [
        e.target,
        {
          down: [] as number[],
          up: [] as number[],
          failures: [] as string[],
          relayCpu: { down: 0, up: 0 },
          sshdCpu: { down: 0, up: 0 },
        },
      ]),
    );
    // One unmeasured session per target first: ftpx's first login after start runs code the later
    // ones find compiled (its embedded store's request path, the host key record of trust on first
    // use), a one-off that would otherwise land in the first round's CPU per GiB of ftpx only.
    for (const endpoint of endpoints) {
      await sftpOk({ host: '127.0.0.1', port: endpoint.port, user: sshd.user.name }, auth, [
        `ls ${sshd.dataDir}`,
      ]);
    }
    // Interleaved: every target once per round and direction, so load from other work hits all alike.
    for (let round = 0; round < rounds; round++) {
      // Each round starts one target later: ftpx and ftpx-noaudit share a process, and work left
      // over from one transfer (a collection, the store's bookkeeping) lands on whichever target of
      // that process is measured next.
      const order = [
        ...endpoints.slice(round % endpoints.length),
        ...endpoints.slice(0, round % endpoints.length),
      ];
      for (const direction of directions) {
        for (const endpoint of order) {
          const sample = samples.get(endpoint.target);
          if (!sample) continue;
          const target = { host: '127.0.0.1', port: endpoint.port, user: sshd.user.name };
          const uploaded = join(sshd.dataDir, `upload-${endpoint.target}.bin`);
          const command = direction === 'down' ? `get ${remote} /dev/null` : `put ${local} ${uploaded}`;
          const relayBefore = endpoint.pid ? await processTreeCpuSeconds(endpoint.pid) : 0;
          const sshdBefore = await processTreeCpuSeconds(sshdPid);
          let ms: number;
          try {
            ms = await timed(() => sftpOk(target, auth, [command]));
          } catch (err) {
            // One relay failing a transfer (mod_proxy does at times) leaves the others measured.
            sample.failures.push(`${direction}: ${err instanceof Error ? err.message.trim() : String(err)}`);
            process.stderr.write(`${endpoint.target} ${direction} failed: ${String(err)}\n`);
            continue;
          }
          // sshd and proftpd fork a process per session: counted once it has been reaped.
          await childrenReaped(sshdPid);
          if (endpoint.target === 'mod_proxy' && endpoint.pid) await childrenReaped(endpoint.pid);
          sample.sshdCpu[direction] += (await processTreeCpuSeconds(sshdPid)) - sshdBefore;
          if (endpoint.pid)
            sample.relayCpu[direction] += (await processTreeCpuSeconds(endpoint.pid)) - relayBefore;
          sample[direction].push(ms);
          if (direction === 'up') await rm(uploaded, { force: true });
        }
      }
    }
    const rows: SftpRow[] = endpoints.map((endpoint) => {
      const sample = samples.get(endpoint.target);
      const row: SftpRow = { target: LABELS[endpoint.target] };
      if (!sample) return row;
      const gib = (transfers: number) => (transfers * sizeMiB) / 1024;
      if (sample.down.length > 0) {
        row.downloadMiBps = round1(sizeMiB / (median(sample.down) / 1000));
        row.sshdCpuDownload = round2(sample.sshdCpu.down / gib(sample.down.length));
        if (endpoint.pid) row.relayCpuDownload = round2(sample.relayCpu.down / gib(sample.down.length));
      }
      if (sample.up.length > 0) {
        row.uploadMiBps = round1(sizeMiB / (median(sample.up) / 1000));
        row.sshdCpuUpload = round2(sample.sshdCpu.up / gib(sample.up.length));
        if (endpoint.pid) row.relayCpuUpload = round2(sample.relayCpu.up / gib(sample.up.length));
      }
      if (sample.failures.length > 0) row.failures = sample.failures;
      process.stderr.write(`${JSON.stringify(row)}\n`);
      return row;
    });
    return {
      sizeMiB,
      rounds,
      ssh2WindowMiB: await ssh2WindowMiB(),
      workers: options.workers ?? '1',
      ...(options.baselineCli && targets.includes('ftpx-baseline')
        ? { baselineCli: options.baselineCli }
        : {}),
      rows,
    };
  } finally {
    for (const proxy of proxies) await proxy.stop();
    if (relay && relay.exitCode === null) {
      const exited = new Promise((done) => relay?.once('exit', done));
      relay.kill('SIGTERM');
      await exited;
    }
    await modProxy?.stop();
    await sshd.stop();
  }
}

async function sftpOk(
  endpoint: { host: string; port: number; user: string },
  auth: { password: string },
  commands: string[],
): Promise<void> {
  const result = await sftpBatch(endpoint, auth, commands, { timeoutMs: 600_000 });
  if (result.code !== 0)
    throw new Error(`sftp ${commands.join('; ')} to :${endpoint.port} failed: ${result.stderr}`);
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const cell = (value: number | undefined) => (value === undefined ? '-' : String(value));

/** The markdown section of the results. */
export function sftpSection(result: SftpBenchResult): string[] {
  const direct = result.rows.find((row) => row.target === LABELS.direct);
  const bare = result.rows.find((row) => row.target === LABELS.ssh2);
  const vs = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? '-' : ratio(a, b);
  return [
    `## SFTP (OpenSSH sftp client, ${result.sizeMiB} MiB, median of ${result.rounds}; ssh2 channel window ${result.ssh2WindowMiB} MiB; ftpx --workers ${result.workers ?? '1'})`,
    '',
    ...(result.baselineCli
      ? [`ftpx-baseline: the audited listener served by ${result.baselineCli}.`, '']
      : []),
    'CPU: user+system seconds per GiB relayed, of the relay (ftpx, the bare ssh2 relay, proftpd with its session processes) and of the backend sshd.',
    '',
    '| target | download MiB/s | upload MiB/s | / direct (down, up) | relay CPU s/GiB down | up | vs bare ssh2 relay (down, up) | sshd CPU s/GiB down | up |',
    '|---|---|---|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.target} | ${cell(r.downloadMiBps)} | ${cell(r.uploadMiBps)} | ${vs(r.downloadMiBps, direct?.downloadMiBps)}, ${vs(r.uploadMiBps, direct?.uploadMiBps)} | ${cell(r.relayCpuDownload)} | ${cell(r.relayCpuUpload)} | ${vs(r.relayCpuDownload, bare?.relayCpuDownload)}, ${vs(r.relayCpuUpload, bare?.relayCpuUpload)} | ${cell(r.sshdCpuDownload)} | ${cell(r.sshdCpuUpload)} |`,
    ),
    '',
    ...result.rows.flatMap((r) =>
      (r.failures ?? []).map((failure) => `- ${r.target}: failed ${failure.split('\n')[0]}`),
    ),
    '',
  ];
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: process.env.BENCH_SFTP_MIB ?? '256' },
      rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
      targets: { type: 'string', default: SFTP_TARGETS.join(',') },
      directions: { type: 'string', default: 'down,up' },
      'cpu-prof': { type: 'string' },
      workers: { type: 'string', default: '1' },
      baseline: { type: 'string' },
    },
  });
  const targets = (values.targets ?? '').split(',').filter(Boolean);
  const unknown = targets.find((t) => !(SFTP_TARGETS as readonly string[]).includes(t));
  const directions = (values.directions ?? '').split(',').filter(Boolean);
  const sizeMiB = Number(values.size);
  const rounds = Number(values.rounds);
  if (unknown || directions.some((d) => d !== 'down' && d !== 'up') || !(sizeMiB > 0) || !(rounds >= 1)) {
    process.stderr.write(
      `usage: bench:sftp -- [--size MiB] [--rounds N] [--targets ${SFTP_TARGETS.join(',')}] [--directions down,up] [--cpu-prof DIR] [--workers N|auto] [--baseline CLI]\n`,
    );
    process.exit(2);
  }
  sftpBench({
    sizeMiB,
    rounds,
    targets: targets as SftpTarget[],
    directions: directions as ('down' | 'up')[],
    ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
    ...(values.workers ? { workers: values.workers } : {}),
    ...(values.baseline ? { baselineCli: resolve(values.baseline) } : {}),
  }).then(
    async (result) => {
      const markdown = `${sftpSection(result).join('\n')}\n`;
      process.stdout.write(markdown);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      await mkdir(join('bench', 'results'), { recursive: true });
      await writeFile(join('bench', 'results', `sftp-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(join('bench', 'results', `sftp-${stamp}.md`), markdown);
    },
    (err: unknown) => {
      process.stderr.write(`sftp bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
