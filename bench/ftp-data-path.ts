import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FtpBackend, makeRandomFile, startFtpBackend } from '../test/support/ftp-backends.js';
import { waitForBanner } from '../test/support/ftp-banner.js';
import { curl } from '../test/support/ftp-clients.js';
import { freePort } from '../test/support/ports.js';
import { type ModProxy, startModProxy } from '../test/support/proftpd-mod-proxy.js';
import { createTestCa, type TestCa } from '../test/support/test-ca.js';
import { openControlProbe } from './control-probe.js';
import { startServe } from './serve-process.js';
import { median, ratio, round1, round2 } from './stats.js';

/** The four TLS combinations of the two legs, and what a direct transfer on the same path is. */
export const DATA_PATHS = ['plain/plain', 'plain/tls', 'tls/plain', 'tls/tls'] as const;
export type DataPath = (typeof DATA_PATHS)[number];
export type Direction = 'download' | 'upload';
export type Target = 'direct' | 'ftpx' | 'ftpx-baseline' | 'mod_proxy';

export interface DataPathOptions {
  sizeMiB: number;
  rounds: number;
  paths: readonly DataPath[];
  directions: readonly Direction[];
  targets: readonly Target[];
  /** Concurrent downloads for the "many transfers" rows; 0 skips them. */
  concurrent: number;
  /** The paths whose concurrent downloads run (each with the control probe); plain/plain by default. */
  concurrentPaths: readonly DataPath[];
  /** `--workers` for ftpx (auto: one worker per core). */
  workers: string;
  /** Extra node options for ftpx and its workers (`--cpu-prof --cpu-prof-dir=...`). */
  nodeArgs: string[];
  /**
   * Another build's `dist/edge-worker/cli.js` (an earlier commit's), run side by side as
   * `ftpx-baseline` with the same configuration: before and after a change in one run.
   */
  baselineCli?: string;
}

export interface DataPathRow {
  /** client leg / backend leg */
  path: DataPath | `${DataPath} x N`;
  direction: Direction;
  target: Target;
  /** Median over the rounds; for a concurrent row, the aggregate of all transfers (median over the rounds). */
  miBps: number;
  /** CPU seconds per GiB relayed of the proxy (every process), median over the rounds. */
  proxyCpuSecPerGiB?: number;
  /** CPU seconds per GiB of the ProFTPD backend (master and its session processes). */
  serverCpuSecPerGiB: number;
  /** CPU seconds per GiB of the curl clients (reaped by the benchmark process). */
  clientCpuSecPerGiB: number;
  /**
   * Cores the whole machine kept busy during the transfer (/proc/stat: user, nice, system, irq,
   * softirq), median over the rounds: softirq work and anything outside the measured processes
   * included, so it says whether a run was CPU-bound (2 on this machine) or waiting.
   */
  machineBusyCores?: number;
  failures: number;
  /**
   * Concurrent rows only: NOOP round trips of another logged-in session through the same target,
   * quiet (before) and while the transfers run (median and p95 over all rounds' samples, ms).
   */
  control?: { quietMs: number; busyMedianMs: number; busyP95Ms: number; samples: number };
}

/** Ticks of /proc/PID/stat (USER_HZ is 100 on Linux). */
const TICK_MS = 10;

/**
 * CPU time of a process tree in ms: user + system of `pid` and its live children, plus what its
 * reaped children used (ProFTPD's master reaps a session process when it ends, so a finished
 * session's CPU lands in the master's cutime/cstime).
 */
export function treeCpuMs(pid: number): number {
  const stat = readStat(pid);
  if (!stat) return 0;
  let ticks = stat.own + stat.reaped;
  for (const child of childPids(pid)) ticks += readStat(child)?.own ?? 0;
  return ticks * TICK_MS;
}

/**
 * CPU time in ms of the children this process has reaped: the curl clients. The servers and
 * proxies it starts are reaped only when they are stopped, after the measurements.
 */
function reapedChildrenCpuMs(): number {
  return (readStat(process.pid)?.reaped ?? 0) * TICK_MS;
}

function readStat(pid: number): { own: number; reaped: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      own: Number(fields[11]) + Number(fields[12]),
      reaped: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The machine's CPU ticks so far, all cores: busy (user, nice, system, irq, softirq) and total. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) + (steal ?? 0) };
}

function busyCores(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * availableParallelism() : 0;
}

interface Endpoint {
  port: number;
  tls: boolean;
  /** The process tree whose CPU is the proxy's; none for direct. */
  proxyPid?: number;
}

/**
 * The FTP data path, side by side in one run: one ProFTPD backend with mod_tls (TLS optional), and
 * for each combination of client leg and backend leg, curl directly, through ftpx and through
 * Debian's ProFTPD mod_proxy. Direct is plain FTP for plain/plain and FTPS (PROT P) for every path
 * with TLS on a leg: a proxy doing one leg's crypto is measured against the server doing it.
 */
export async function ftpDataPath(options: DataPathOptions): Promise<DataPathRow[]> {
  const ca = await createTestCa();
  const backend = await startFtpBackend('proftpd', {
    name: 'bench-datapath',
    tls: { cert: ca.server.cert, key: ca.server.key },
  });
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-bench-datapath-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const bytes = options.sizeMiB * 1024 * 1024;
    const source = join(workDir, 'upload.bin');
    await makeRandomFile(source, bytes);
    await makeRandomFile(join(backend.homeDir, 'download.bin'), bytes);
    const endpoints = await startTargets(options, backend, ca, workDir, stops);
    const rows: DataPathRow[] = [];
    const samples = new Map<
      string,
      {
        ms: number[];
        proxyCpu: number[];
        serverCpu: number[];
        clientCpu: number[];
        busyCores: number[];
        failures: number;
      }
    >();
    for (let round = 0; round < options.rounds; round++) {
      for (const path of options.paths) {
        for (const direction of options.directions) {
          for (const target of options.targets) {
            const endpoint = endpoints.get(`${target} ${path}`);
            if (!endpoint) continue;
            const key = `${path} ${direction} ${target}`;
            const sample = samples.get(key) ?? {
              ms: [],
              proxyCpu: [],
              serverCpu: [],
              clientCpu: [],
              busyCores: [],
              failures: 0,
            };
            samples.set(key, sample);
            const run = await measure(endpoint, backend, () =>
              transfer(endpoint, backend, ca, direction, source, `up-${target}-${round}.bin`),
            );
            await rm(join(backend.homeDir, `up-${target}-${round}.bin`), { force: true });
            if (!run.ok) {
              sample.failures += 1;
              process.stderr.write(`${key}: ${run.error}\n`);
              continue;
            }
            sample.ms.push(run.ms);
            sample.busyCores.push(run.busyCores);
            sample.serverCpu.push(run.serverCpuMs / 1000 / (bytes / 2 ** 30));
            sample.clientCpu.push(run.clientCpuMs / 1000 / (bytes / 2 ** 30));
            if (run.proxyCpuMs !== undefined) sample.proxyCpu.push(run.proxyCpuMs / 1000 / (bytes / 2 ** 30));
          }
        }
      }
    }
    for (const [key, sample] of samples) {
      const [path, direction, target] = key.split(' ') as [DataPath, Direction, Target];
      const row: DataPathRow = {
        path,
        direction,
        target,
        miBps: sample.ms.length > 0 ? round1(options.sizeMiB / (median(sample.ms) / 1000)) : 0,
        serverCpuSecPerGiB: round2(median(sample.serverCpu)),
        clientCpuSecPerGiB: round2(median(sample.clientCpu)),
        failures: sample.failures,
      };
      if (sample.busyCores.length > 0) row.machineBusyCores = round2(median(sample.busyCores));
      if (sample.proxyCpu.length > 0) row.proxyCpuSecPerGiB = round2(median(sample.proxyCpu));
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    if (options.concurrent > 0) rows.push(...(await concurrentRows(options, endpoints, backend, ca, source)));
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await backend.stop();
    await rm(workDir, { recursive: true, force: true });
    await ca.remove();
  }
}

/**
 * N concurrent downloads per target and path (`concurrentPaths`), the targets interleaved round by
 * round, while another logged-in session of the same target sends a NOOP every 20 ms: the aggregate
 * (median over the rounds) and the NOOP round trips, quiet (20 before each round) and busy, pooled
 * over all rounds for the median and p95.
 */
async function concurrentRows(
  options: DataPathOptions,
  endpoints: Map<string, Endpoint>,
  backend: FtpBackend,
  ca: TestCa,
  source: string,
): Promise<DataPathRow[]> {
  const bytes = options.sizeMiB * 1024 * 1024;
  const total = bytes * options.concurrent;
  const paths = options.concurrentPaths.filter((path) => options.paths.includes(path));
  const samples = new Map<
    string,
    {
      ms: number[];
      proxyCpu: number[];
      serverCpu: number[];
      clientCpu: number[];
      busyCores: number[];
      quiet: number[];
      busy: number[];
      failures: number;
    }
  >();
  for (let round = 0; round < options.rounds; round++) {
    for (const path of paths) {
      for (const target of options.targets) {
        const endpoint = endpoints.get(`${target} ${path}`);
        if (!endpoint) continue;
        const key = `${path} x N ${target}`;
        const sample = samples.get(key) ?? {
          ms: [],
          proxyCpu: [],
          serverCpu: [],
          clientCpu: [],
          busyCores: [],
          quiet: [],
          busy: [],
          failures: 0,
        };
        samples.set(key, sample);
        // The probe's control connection is plain: the control replies are what is measured, and
        // they cross the same worker whatever the data connections' protection.
        const probe = await openControlProbe('127.0.0.1', endpoint.port, backend.user, backend.password);
        for (let i = 0; i < 20; i++) sample.quiet.push(await probe.noop());
        let transfersDone = false;
        const busyBefore = sample.busy.length;
        const probing = (async () => {
          while (!transfersDone && sample.busy.length - busyBefore < 10_000) {
            sample.busy.push(await probe.noop());
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        const run = await measure(endpoint, backend, async () => {
          try {
            const results = await Promise.all(
              Array.from({ length: options.concurrent }, () =>
                transfer(endpoint, backend, ca, 'download', source, ''),
              ),
            );
            return results.find((result) => result !== undefined);
          } finally {
            transfersDone = true;
          }
        });
        await probing.catch(() => undefined);
        probe.close();
        if (!run.ok) {
          sample.failures += 1;
          process.stderr.write(`concurrent ${key}: ${run.error}\n`);
          continue;
        }
        sample.ms.push(run.ms);
        sample.busyCores.push(run.busyCores);
        sample.serverCpu.push(run.serverCpuMs / 1000 / (total / 2 ** 30));
        sample.clientCpu.push(run.clientCpuMs / 1000 / (total / 2 ** 30));
        if (run.proxyCpuMs !== undefined) sample.proxyCpu.push(run.proxyCpuMs / 1000 / (total / 2 ** 30));
      }
    }
  }
  const rows: DataPathRow[] = [];
  for (const [key, sample] of samples) {
    const [path, , , target] = key.split(' ') as [DataPath, 'x', 'N', Target];
    const row: DataPathRow = {
      path: `${path} x N`,
      direction: 'download',
      target,
      miBps: sample.ms.length > 0 ? round1(total / 2 ** 20 / (median(sample.ms) / 1000)) : 0,
      serverCpuSecPerGiB: sample.serverCpu.length > 0 ? round2(median(sample.serverCpu)) : 0,
      clientCpuSecPerGiB: sample.clientCpu.length > 0 ? round2(median(sample.clientCpu)) : 0,
      failures: sample.failures,
    };
    if (sample.busyCores.length > 0) row.machineBusyCores = round2(median(sample.busyCores));
    if (sample.proxyCpu.length > 0) row.proxyCpuSecPerGiB = round2(median(sample.proxyCpu));
    if (sample.busy.length > 0) {
      const sorted = [...sample.busy].sort((a, b) => a - b);
      row.control = {
        quietMs: round2(median(sample.quiet)),
        busyMedianMs: round2(median(sample.busy)),
        busyP95Ms: round2(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] as number),
        samples: sample.busy.length,
      };
    }
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  return rows;
}

/** ftpx (one process, a listener per path) and one mod_proxy per path, as the options ask. */
async function startTargets(
  options: DataPathOptions,
  backend: FtpBackend,
  ca: TestCa,
  workDir: string,
  stops: (() => Promise<void>)[],
): Promise<Map<string, Endpoint>> {
  const endpoints = new Map<string, Endpoint>();
  for (const path of options.paths) {
    endpoints.set(`direct ${path}`, { port: backend.port, tls: path !== 'plain/plain' });
  }
  for (const [target, cli] of [
    ['ftpx', undefined],
    ['ftpx-baseline', options.baselineCli],
  ] as const) {
    if (!options.targets.includes(target) || (target === 'ftpx-baseline' && !cli)) continue;
    const ports = new Map<DataPath, number>();
    for (const path of options.paths) ports.set(path, await freePort());
    const config = join(workDir, `${target}.yaml`);
    const listener = (path: DataPath) =>
      [
        `  - address: 127.0.0.1`,
        `    port: ${ports.get(path)}`,
        `    pool: ${path.endsWith('/tls') ? 'tls' : 'plain'}`,
        ...(path.startsWith('tls/')
          ? [`    tls: { certificates: [{ cert: ${ca.server.cert}, key: ${ca.server.key} }] }`]
          : []),
      ].join('\n');
    await writeFile(
      config,
      [
        `dataDir: ${join(workDir, `${target}-data`)}`,
        'log: { level: warn }',
        'listeners:',
        ...options.paths.map(listener),
        'pools:',
        '  - name: plain',
        `    backends: [ftp://${backend.host}:${backend.port}]`,
        '    tls: { engine: off }',
        '  - name: tls',
        `    backends: [ftp://${backend.host}:${backend.port}]`,
        // The default (auto): AUTH TLS to the backend, data connections protected.
        `    tls: { caFile: ${ca.caCert} }`,
        '',
      ].join('\n'),
    );
    const ftpx = await startServe(config, {
      workers: options.workers,
      nodeArgs: options.nodeArgs,
      ...(cli ? { cli } : {}),
    });
    stops.push(ftpx.stop);
    for (const [path, port] of ports) {
      await waitForBanner('127.0.0.1', port, 60_000, () => undefined);
      endpoints.set(`${target} ${path}`, { port, tls: path.startsWith('tls/'), proxyPid: ftpx.pid });
    }
  }
  if (options.targets.includes('mod_proxy')) {
    for (const path of options.paths) {
      let modProxy: ModProxy;
      try {
        modProxy = await startModProxy([backend.url.replace('ftps://', 'ftp://')], `mod_proxy-${path}`, {
          ...(path.startsWith('tls/') ? { client: { cert: ca.server.cert, key: ca.server.key } } : {}),
          ...(path.endsWith('/tls') ? { backend: { caFile: ca.caCert } } : {}),
        });
      } catch (err) {
        process.stderr.write(`mod_proxy for ${path} did not start: ${(err as Error).message}\n`);
        continue;
      }
      stops.push(modProxy.stop);
      endpoints.set(`mod_proxy ${path}`, {
        port: modProxy.port,
        tls: path.startsWith('tls/'),
        proxyPid: modProxy.pid,
      });
    }
  }
  return endpoints;
}

/** One transfer with curl (PROT P with --ssl-reqd); an error text when it failed. */
async function transfer(
  endpoint: Endpoint,
  backend: FtpBackend,
  ca: TestCa,
  direction: Direction,
  source: string,
  uploadName: string,
): Promise<string | undefined> {
  const base = `ftp://${backend.user}:${backend.password}@localhost:${endpoint.port}`;
  const tlsArgs = endpoint.tls ? ['--ssl-reqd', '--cacert', ca.caCert] : [];
  const args = [
    ...tlsArgs,
    '--resolve',
    `localhost:${endpoint.port}:127.0.0.1`,
    ...(direction === 'download'
      ? [`${base}/download.bin`, '-o', '/dev/null']
      : ['-T', source, `${base}/${uploadName}`]),
  ];
  const result = await curl(args, { timeoutMs: 300_000 });
  return result.code === 0 ? undefined : `curl exited ${result.code}: ${result.stderr.trim().slice(-300)}`;
}

/**
 * Wall time of `run`, and the CPU the proxy, the server and the clients used meanwhile (sessions
 * reaped first).
 */
async function measure(
  endpoint: Endpoint,
  backend: FtpBackend,
  run: () => Promise<string | undefined>,
): Promise<
  | { ok: true; ms: number; proxyCpuMs?: number; serverCpuMs: number; clientCpuMs: number; busyCores: number }
  | { ok: false; error: string }
> {
  const machineBefore = machineTicks();
  const proxyBefore = endpoint.proxyPid === undefined ? 0 : treeCpuMs(endpoint.proxyPid);
  const serverBefore = treeCpuMs(backend.pid);
  const clientBefore = reapedChildrenCpuMs();
  const started = performance.now();
  let error: string | undefined;
  try {
    error = await run();
  } catch (err) {
    error = (err as Error).message;
  }
  const ms = performance.now() - started;
  const machineAfter = machineTicks();
  // ProFTPD's session processes exit right after QUIT; give the masters a moment to reap them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (error !== undefined) return { ok: false, error };
  return {
    ok: true,
    ms,
    busyCores: busyCores(machineBefore, machineAfter),
    serverCpuMs: treeCpuMs(backend.pid) - serverBefore,
    clientCpuMs: reapedChildrenCpuMs() - clientBefore,
    ...(endpoint.proxyPid === undefined ? {} : { proxyCpuMs: treeCpuMs(endpoint.proxyPid) - proxyBefore }),
  };
}

/** The markdown section: one line per path and direction, direct / ftpx / mod_proxy side by side. */
export function dataPathSection(rows: DataPathRow[], options: DataPathOptions): string[] {
  const find = (path: string, direction: Direction, target: Target) =>
    rows.find((r) => r.path === path && r.direction === direction && r.target === target);
  const cell = (row: DataPathRow | undefined) =>
    row ? `${row.miBps}${row.failures ? ` (${row.failures} failed)` : ''}` : '-';
  const cpu = (row: DataPathRow | undefined) => (row?.proxyCpuSecPerGiB ?? '-').toString();
  const baseline = rows.some((r) => r.target === 'ftpx-baseline');
  const lines = [
    `## FTP data path (one ProFTPD mod_tls backend; ${options.sizeMiB} MiB files, curl, median of ${options.rounds}; ftpx --workers ${options.workers})`,
    '',
    'Direct is plain FTP for plain/plain and FTPS (PROT P) wherever a leg has TLS. CPU s/GiB: every',
    'process of the proxy (ftpx: primary and workers; mod_proxy: its master and the session processes',
    'it reaped), from /proc/PID/stat utime+stime; server: the ProFTPD backend the same way; client: the',
    'curl processes. On 2 cores, direct client + server CPU per GiB is what a proxy adds again when it',
    "does both ends' work (both legs TLS: one decryption and one encryption), so that sum bounds the",
    "proxied rate when the run is CPU-bound. Busy cores: the whole machine's busy time in /proc/stat",
    "(user, nice, system, irq, softirq: whatever ran) over the transfer's wall time; below the core",
    'count, the run waited on something other than CPU.',
    '',
    ...(baseline
      ? [
          `ftpx-baseline: the same configuration served by another build (${options.baselineCli}), side by side.`,
          '',
        ]
      : []),
    `| path (client/backend) | direction | direct MiB/s | ftpx MiB/s | ftpx/direct | mod_proxy MiB/s | mod_proxy/direct | ftpx CPU s/GiB | mod_proxy CPU s/GiB | server CPU s/GiB (direct) | client CPU s/GiB (direct) | busy cores direct / ftpx / mod_proxy |${baseline ? ' ftpx-baseline MiB/s | baseline/direct | ftpx-baseline CPU s/GiB |' : ''}`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|${baseline ? '---|---|---|' : ''}`,
  ];
  const paths = [
    ...options.paths,
    ...options.paths.map((path) => `${path} x N`).filter((label) => rows.some((r) => r.path === label)),
  ];
  for (const path of paths) {
    for (const direction of options.directions) {
      const direct = find(path, direction, 'direct');
      const ftpx = find(path, direction, 'ftpx');
      const modProxy = find(path, direction, 'mod_proxy');
      const before = find(path, direction, 'ftpx-baseline');
      if (!direct && !ftpx && !modProxy) continue;
      const label = path.endsWith(' x N')
        ? `${path.slice(0, -' x N'.length)}, ${options.concurrent} at once (aggregate)`
        : path;
      lines.push(
        `| ${label} | ${direction} | ${cell(direct)} | ${cell(ftpx)} | ${direct && ftpx ? ratio(ftpx.miBps, direct.miBps) : '-'} | ${cell(modProxy)} | ${direct && modProxy ? ratio(modProxy.miBps, direct.miBps) : '-'} | ${cpu(ftpx)} | ${cpu(modProxy)} | ${direct?.serverCpuSecPerGiB ?? '-'} | ${direct?.clientCpuSecPerGiB ?? '-'} | ${[direct, ftpx, modProxy].map((row) => row?.machineBusyCores ?? '-').join(' / ')} |${baseline ? ` ${cell(before)} | ${direct && before ? ratio(before.miBps, direct.miBps) : '-'} | ${cpu(before)} |` : ''}`,
      );
    }
  }
  lines.push('');
  const probed = rows.filter((r) => r.control);
  if (probed.length > 0) {
    lines.push(
      `Another logged-in session's NOOP round trips through the same target while the ${options.concurrent} downloads run (ms; samples of all ${options.rounds} rounds):`,
      '',
      '| path (client/backend) | target | quiet median | busy median | busy p95 | busy p95 − quiet | samples |',
      '|---|---|---|---|---|---|---|',
      ...probed.map((r) => {
        const c = r.control as NonNullable<DataPathRow['control']>;
        return `| ${r.path.slice(0, -' x N'.length)} | ${r.target} | ${c.quietMs} | ${c.busyMedianMs} | ${c.busyP95Ms} | ${round2(c.busyP95Ms - c.quietMs)} | ${c.samples} |`;
      }),
      '',
    );
  }
  return lines;
}
