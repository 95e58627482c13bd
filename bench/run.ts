/**
 * The benchmark: direct to real servers, through ftpx, and through ProFTPD's own mod_proxy, side by
 * side in one run. Writes bench/results/<time>.json and .md (and latest.md).
 *
 *   npm run bench                      # 512 MiB transfers, 30 logins, 32 concurrent clients for 10 s
 *   BENCH_SIZE_MIB=64 npm run bench    # a quicker run
 *   BENCH_PARTS=ftps npm run bench     # only the FTPS part (plain, load, ftps, resolve)
 *   npm run bench -- --only datapath --size 128 [--rounds 1] [--paths plain/plain,tls/tls]
 *        [--directions download] [--targets ftpx] [--concurrent 8] [--concurrent-paths plain/plain]
 *        [--workers auto]
 *        [--baseline OTHER-CHECKOUT/dist/edge-worker/cli.js]   (also a row of the load part)
 *                                      # only the FTP data path (four TLS combinations, concurrent)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type FtpBackend, makeRandomFile, startFtpBackend } from '../test/support/ftp-backends.js';
import { curl } from '../test/support/ftp-clients.js';
import { freePort } from '../test/support/ports.js';
import { type ModProxy, startModProxy } from '../test/support/proftpd-mod-proxy.js';
import { type ProxyProcess, startProxyProcess } from '../test/support/proxy-process.js';
import {
  DATA_PATHS,
  type DataPath,
  type DataPathOptions,
  type DataPathRow,
  type Direction,
  dataPathSection,
  ftpDataPath,
  type Target,
  treeCpuMs,
} from './ftp-data-path.js';
import { type Endpoint, loginsPerSecond, loginTimes } from './ftp-login.js';
import { type FtpsRow, ftpsTransfers } from './ftps.js';
import {
  measureResolveLatency,
  measureStoreRequests,
  type ResolveLatency,
  type StoreRequestsRow,
} from './resolve-latency.js';
import { type SftpBenchResult, sftpBench, sftpSection } from './sftp.js';
import { median, percentile, ratio, round1 } from './stats.js';

const USAGE = `usage: npm run bench -- [--only plain,load,ftps,datapath,resolve,sftp] [--size MiB]
  [--rounds N] [--paths P,...] [--directions download,upload] [--targets T,...] [--concurrent N]
  [--concurrent-paths P,...] [--workers N|auto] [--baseline OTHER-CHECKOUT/dist/edge-worker/cli.js]`;

/**
 * `--name value` flags (they win over the BENCH_* variables). Strict, so a mistyped flag (or
 * `--help`) stops here instead of starting a run of every part with the defaults.
 */
const FLAGS = (() => {
  try {
    const { values } = parseArgs({
      strict: true,
      options: {
        only: { type: 'string' },
        size: { type: 'string' },
        rounds: { type: 'string' },
        paths: { type: 'string' },
        directions: { type: 'string' },
        targets: { type: 'string' },
        concurrent: { type: 'string' },
        'concurrent-paths': { type: 'string' },
        workers: { type: 'string' },
        baseline: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
function flag(name: Exclude<keyof typeof FLAGS, 'help'>): string | undefined {
  return FLAGS[name];
}
function list<T extends string>(
  name: 'paths' | 'directions' | 'targets' | 'concurrent-paths',
  all: readonly T[],
): T[] {
  const value = flag(name);
  if (!value) return [...all];
  const picked = value.split(',') as T[];
  const unknown = picked.filter((each) => !all.includes(each));
  if (unknown.length > 0)
    throw new Error(`--${name}: unknown ${unknown.join(', ')} (one of ${all.join(', ')})`);
  return picked;
}

const SIZE_MIB = Number(flag('size') ?? process.env.BENCH_SIZE_MIB ?? 512);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 30);
const ROUNDS = Number(flag('rounds') ?? process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
// FTPX_BENCH_NODE_ARGS: node options for ftpx and its workers (--cpu-prof --cpu-prof-dir=DIR).
const NODE_ARGS = process.env.FTPX_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
// --baseline OTHER-CHECKOUT/dist/edge-worker/cli.js: another build side by side (datapath and load).
const BASELINE_CLI = flag('baseline');
// --workers N|auto: `serve --workers` of ftpx (and the baseline) in the load and datapath parts.
const WORKERS = flag('workers') ?? 'auto';
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
/**
 * The same load, unmeasured, before ftpx's: a proxy that has just started runs its login path in V8's
 * interpreter and baseline tier and compiles it meanwhile (in a burst right after start, a fifth of
 * its CPU was the JIT), which a proxy that has run for a while no longer pays. CPU per login fell
 * for ~25 s of load (bench/README.md, "Login path").
 */
const LOAD_WARMUP_SECONDS = Number(process.env.BENCH_LOAD_WARMUP_SECONDS ?? 20);
const RESOLVE_CALLS = Number(process.env.BENCH_RESOLVE_CALLS ?? 2000);
const STORE_CALLS = Number(process.env.BENCH_STORE_CALLS ?? 320);
const SFTP_MIB = Number(process.env.BENCH_SFTP_MIB ?? 256);
/**
 * ProFTPD's standalone master sleeps ~0.4 s after a session ends before it accepts the next one, so
 * back-to-back logins would measure that sleep; a pause between logins measures the login itself.
 */
const LOGIN_PAUSE_MS = Number(process.env.BENCH_LOGIN_PAUSE_MS ?? 600);
const RESULTS_DIR = new URL('../../bench/results/', import.meta.url).pathname;

interface TransferRow {
  target: string;
  downloadMiBps: number;
  uploadMiBps: number;
  loginMsMedian: number;
  loginMsP95: number;
  /** USER sent to 230 (the USER+PASS time). */
  userPassMsMedian: number;
  userPassMsP95: number;
  proxyPeakRssMiB?: number;
}

interface LoadRow {
  target: string;
  loginsPerSecond: number;
  failures: number;
  /** CPU ms per login of the proxy (every process of it), or of the three backends for direct. */
  cpuMsPerLogin: number;
  /** CPU ms per login of the clients (this process). */
  clientCpuMsPerLogin: number;
}

/** One ProFTPD backend: throughput and single-login latency. */
async function transfers(): Promise<TransferRow[]> {
  const backend = await startFtpBackend('proftpd', { name: 'bench-proftpd' });
  const scratch = join(backend.homeDir, '..', 'bench-client');
  let proxy: ProxyProcess | undefined;
  let modProxy: ModProxy | undefined;
  try {
    await mkdir(scratch, { recursive: true });
    const source = join(scratch, 'upload.bin');
    await makeRandomFile(source, SIZE_MIB * 1024 * 1024);
    await makeRandomFile(join(backend.homeDir, 'download.bin'), SIZE_MIB * 1024 * 1024);
    proxy = await startProxyProcess({ backends: [backend.url], port: await freePort(), processGroup: true });
    modProxy = await startModProxy(backend.url);
    const targets = [
      { target: 'direct (ProFTPD)', host: backend.host, port: backend.port },
      { target: 'through ftpx', host: '127.0.0.1', port: proxy.port },
      { target: 'through ProFTPD mod_proxy', host: '127.0.0.1', port: modProxy.port },
    ];
    const rows: TransferRow[] = [];
    for (const { target, host, port } of targets) {
      const base = `ftp://${backend.user}:${backend.password}@${host}:${port}`;
      const downloads: number[] = [];
      const uploads: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        downloads.push(await timed(() => curlOk([`${base}/download.bin`, '-o', '/dev/null'])));
        uploads.push(await timed(() => curlOk(['-T', source, `${base}/upload-${round}.bin`])));
        await rm(join(backend.homeDir, `upload-${round}.bin`), { force: true });
      }
      const logins: number[] = [];
      const userPass: number[] = [];
      for (let i = 0; i < LOGINS; i++) {
        await new Promise((resolve) => setTimeout(resolve, LOGIN_PAUSE_MS));
        const times = await loginTimes(host, port, backend.user, backend.password);
        logins.push(times.totalMs);
        userPass.push(times.userPassMs);
      }
      const row: TransferRow = {
        target,
        downloadMiBps: round1(SIZE_MIB / (median(downloads) / 1000)),
        uploadMiBps: round1(SIZE_MIB / (median(uploads) / 1000)),
        loginMsMedian: round1(median(logins)),
        loginMsP95: round1(percentile(logins, 0.95)),
        userPassMsMedian: round1(median(userPass)),
        userPassMsP95: round1(percentile(userPass, 0.95)),
      };
      if (port === proxy.port) row.proxyPeakRssMiB = await peakRssMiB(proxy.pid);
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    return rows;
  } finally {
    await proxy?.stop();
    await modProxy?.stop();
    await backend.stop();
  }
}

/** Three pure-ftpd backends (no post-session pause): logins per second under concurrent load. */
async function load(): Promise<LoadRow[]> {
  const backends: FtpBackend[] = await Promise.all(
    [1, 2, 3].map((n) => startFtpBackend('pure-ftpd', { name: `bench-load-${n}` })),
  );
  let proxy: ProxyProcess | undefined;
  let baseline: ProxyProcess | undefined;
  let modProxy: ModProxy | undefined;
  try {
    const urls = backends.map((backend) => backend.url);
    proxy = await startProxyProcess({
      backends: urls,
      port: await freePort(),
      nodeOptions: NODE_ARGS,
      workers: WORKERS,
      // A session of its own, as the servers and mod_proxy get (serve-process.ts says why).
      processGroup: true,
    });
    if (BASELINE_CLI) {
      baseline = await startProxyProcess({
        backends: urls,
        port: await freePort(),
        cli: BASELINE_CLI,
        workers: WORKERS,
        processGroup: true,
      });
    }
    modProxy = await startModProxy(urls);
    const credentials = { user: backends[0]?.user ?? '', password: backends[0]?.password ?? '' };
    const targets: [string, Endpoint[], number[]][] = [
      [
        'direct (3 pure-ftpd, clients spread)',
        backends.map((b) => ({ host: b.host, port: b.port })),
        backends.map((b) => b.pid),
      ],
      [
        `through ftpx (RoundRobin, --workers ${WORKERS})`,
        [{ host: '127.0.0.1', port: proxy.port }],
        [proxy.pid],
      ],
      ...(baseline
        ? [
            [
              `through ftpx-baseline (RoundRobin; ${BASELINE_CLI})`,
              [{ host: '127.0.0.1', port: baseline.port }],
              [baseline.pid],
            ] as [string, Endpoint[], number[]],
          ]
        : []),
      [
        'through ProFTPD mod_proxy (RoundRobin)',
        [{ host: '127.0.0.1', port: modProxy.port }],
        [modProxy.pid],
      ],
    ];
    const rows: LoadRow[] = [];
    // Only ftpx's processes have a JIT to warm: pure-ftpd and ProFTPD fork a fresh process per session.
    const warmed = new Set([proxy.pid, ...(baseline ? [baseline.pid] : [])]);
    for (const [target, endpoints, pids] of targets) {
      if (LOAD_WARMUP_SECONDS > 0 && pids.some((pid) => warmed.has(pid)))
        await loginsPerSecond(endpoints, credentials, CLIENTS, LOAD_WARMUP_SECONDS);
      const cpu = () => pids.reduce((sum, pid) => sum + treeCpuMs(pid), 0);
      const before = cpu();
      const clientBefore = process.cpuUsage();
      const result = await loginsPerSecond(endpoints, credentials, CLIENTS, LOAD_SECONDS);
      const client = process.cpuUsage(clientBefore);
      // Session processes that just ended are reaped into their master's counts.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const logins = result.perSecond * LOAD_SECONDS;
      const row = {
        target,
        loginsPerSecond: round1(result.perSecond),
        failures: result.failures,
        cpuMsPerLogin: logins > 0 ? round1((cpu() - before) / logins) : 0,
        clientCpuMsPerLogin: logins > 0 ? round1((client.user + client.system) / 1000 / logins) : 0,
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    return rows;
  } finally {
    await proxy?.stop();
    await baseline?.stop();
    await modProxy?.stop();
    await Promise.all(backends.map((backend) => backend.stop()));
  }
}

/** BENCH_PARTS=ftps or --only ftps (comma-separated: plain, load, ftps, datapath, resolve, sftp) runs only those parts. */
const ALL_PARTS = ['plain', 'load', 'ftps', 'datapath', 'resolve', 'sftp'];
const PARTS = new Set((flag('only') ?? process.env.BENCH_PARTS ?? ALL_PARTS.join(',')).split(','));

const DATA_PATH_OPTIONS: DataPathOptions = {
  sizeMiB: SIZE_MIB,
  rounds: ROUNDS,
  paths: list<DataPath>('paths', DATA_PATHS),
  directions: list<Direction>('directions', ['download', 'upload']),
  targets: list<Target>('targets', ['direct', 'ftpx', 'ftpx-baseline', 'mod_proxy']),
  concurrent: Number(flag('concurrent') ?? 8),
  // --concurrent-paths plain/plain,plain/tls: which paths get the concurrent downloads and the probe.
  concurrentPaths: flag('concurrent-paths')
    ? list<DataPath>('concurrent-paths', DATA_PATHS)
    : ['plain/plain'],
  workers: WORKERS,
  nodeArgs: NODE_ARGS,
  ...(BASELINE_CLI ? { baselineCli: BASELINE_CLI } : {}),
};

async function main(): Promise<void> {
  const transferRows = PARTS.has('plain') ? await transfers() : [];
  const loadRows = PARTS.has('load') ? await load() : [];
  const ftpsRows = PARTS.has('ftps')
    ? await ftpsTransfers({ sizeMiB: SIZE_MIB, rounds: ROUNDS, logins: LOGINS, loginPauseMs: LOGIN_PAUSE_MS })
    : [];
  const dataPathRows = PARTS.has('datapath') ? await ftpDataPath(DATA_PATH_OPTIONS) : [];
  const resolveRows = PARTS.has('resolve') ? await measureResolveLatency(RESOLVE_CALLS) : [];
  for (const row of resolveRows) process.stderr.write(`${JSON.stringify(row)}\n`);
  const storeRows = PARTS.has('resolve') ? await measureStoreRequests(STORE_CALLS, CLIENTS) : [];
  for (const row of storeRows) process.stderr.write(`${JSON.stringify(row)}\n`);
  const sftp = PARTS.has('sftp') ? await sftpBench({ sizeMiB: SFTP_MIB, rounds: ROUNDS }) : undefined;
  await writeResults(
    transferRows,
    loadRows,
    { latency: resolveRows, storeRequests: storeRows },
    ftpsRows,
    sftp,
    dataPathRows,
  );
}

async function curlOk(args: string[]): Promise<void> {
  const result = await curl(args, { timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`curl ${args.join(' ')} failed: ${result.stderr}`);
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function peakRssMiB(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? round1(Number(match[1]) / 1024) : undefined;
}

async function writeResults(
  transfersRows: TransferRow[],
  loadRows: LoadRow[],
  resolve: { latency: ResolveLatency[]; storeRequests: StoreRequestsRow[] },
  ftpsRows: FtpsRow[],
  sftp: SftpBenchResult | undefined,
  dataPathRows: DataPathRow[],
) {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const direct = transfersRows[0];
  const directLoad = loadRows[0];
  const directFtps = ftpsRows[0];
  const table = [
    `# ftpx benchmark ${new Date().toISOString()}`,
    '',
    `Loopback, one 2-core machine: clients, proxies and servers share it. Node ${process.version}.`,
    '',
    ...(PARTS.has('plain')
      ? [
          `## Transfers and login latency (one ProFTPD backend; ${SIZE_MIB} MiB files, median of ${ROUNDS} curl transfers; ${LOGINS} logins ${LOGIN_PAUSE_MS} ms apart)`,
          '',
          '| target | download MiB/s | upload MiB/s | login ms (median) | login ms (p95) | USER+PASS ms (median) | USER+PASS ms (p95) | ftpx peak RSS MiB |',
          '|---|---|---|---|---|---|---|---|',
          ...transfersRows.map(
            (r) =>
              `| ${r.target} | ${r.downloadMiBps} | ${r.uploadMiBps} | ${r.loginMsMedian} | ${r.loginMsP95} | ${r.userPassMsMedian} | ${r.userPassMsP95} | ${r.proxyPeakRssMiB ?? '-'} |`,
          ),
          '',
          ...(direct
            ? transfersRows
                .slice(1)
                .map(
                  (r) =>
                    `- ${r.target} / direct: download ${ratio(r.downloadMiBps, direct.downloadMiBps)}, upload ${ratio(r.uploadMiBps, direct.uploadMiBps)}, login ${ratio(r.loginMsMedian, direct.loginMsMedian)}, USER+PASS ${round1(r.userPassMsMedian - direct.userPassMsMedian)} ms over direct`,
                )
            : []),
          '',
        ]
      : []),
    ...(PARTS.has('load')
      ? [
          `## Logins per second (${CLIENTS} concurrent clients for ${LOAD_SECONDS} s ftpx after ${LOAD_WARMUP_SECONDS} s of the same unmeasured, three pure-ftpd backends; the direct row is the backends' own ceiling)`,
          '',
          '| target | logins/s | failures | CPU ms per login (the proxy; direct: the backends) | clients CPU ms per login |',
          '|---|---|---|---|---|',
          ...loadRows.map(
            (r) =>
              `| ${r.target} | ${r.loginsPerSecond} | ${r.failures} | ${r.cpuMsPerLogin} | ${r.clientCpuMsPerLogin} |`,
          ),
          '',
          ...(directLoad
            ? loadRows
                .slice(1)
                .map((r) => `- ${r.target} / direct: ${ratio(r.loginsPerSecond, directLoad.loginsPerSecond)}`)
            : []),
          '',
        ]
      : []),
    ...(PARTS.has('ftps')
      ? [
          `## FTPS, PROT P (one ProFTPD mod_tls backend requiring session reuse; ${SIZE_MIB} MiB files, median of ${ROUNDS} curl --ssl-reqd transfers; ${LOGINS} AUTH TLS logins, full handshakes)`,
          '',
          '| target | download MiB/s | upload MiB/s | TLS login ms (median) | TLS login ms (p95) |',
          '|---|---|---|---|---|',
          ...ftpsRows.map(
            (r) =>
              `| ${r.target} | ${r.downloadMiBps} | ${r.uploadMiBps} | ${r.tlsLoginMsMedian} | ${r.tlsLoginMsP95} |`,
          ),
          '',
          ...(directFtps
            ? ftpsRows
                .slice(1)
                .map(
                  (r) =>
                    `- ${r.target} / direct: download ${ratio(r.downloadMiBps, directFtps.downloadMiBps)}, upload ${ratio(r.uploadMiBps, directFtps.uploadMiBps)}, TLS login ${ratio(r.tlsLoginMsMedian, directFtps.tlsLoginMsMedian)}`,
                )
            : []),
          '',
        ]
      : []),
    ...(PARTS.has('resolve')
      ? [
          `## resolve-backend latency (${RESOLVE_CALLS} sequential calls, RoundRobin, embedded dynalite store)`,
          '',
          '| transport | median ms | p99 ms |',
          '|---|---|---|',
          ...resolve.latency.map((r) => `| ${r.transport} | ${r.medianMs} | ${r.p99Ms} |`),
          '',
          `## Store requests per resolve-backend call (${STORE_CALLS} calls one at a time, then ${CLIENTS} at a time; in-process control plane, read cache on as in \`ftpx serve\`)`,
          '',
          '| policy | one at a time | burst |',
          '|---|---|---|',
          ...resolve.storeRequests.map(
            (r) => `| ${r.policy} | ${describeCounts(r.sequential)} | ${describeCounts(r.burst)} |`,
          ),
          '',
        ]
      : []),
    ...(dataPathRows.length > 0 ? dataPathSection(dataPathRows, DATA_PATH_OPTIONS) : []),
    ...(sftp ? sftpSection(sftp) : []),
  ].join('\n');
  const meta = {
    node: process.version,
    sizeMiB: SIZE_MIB,
    rounds: ROUNDS,
    logins: LOGINS,
    clients: CLIENTS,
    loadSeconds: LOAD_SECONDS,
    loadWarmupSeconds: LOAD_WARMUP_SECONDS,
    resolveCalls: RESOLVE_CALLS,
    date: new Date().toISOString(),
  };
  const json = {
    meta,
    transfers: transfersRows,
    load: loadRows,
    ftps: ftpsRows,
    dataPath: dataPathRows,
    resolve: resolve.latency,
    storeRequests: resolve.storeRequests,
    sftp,
  };
  await writeFile(join(RESULTS_DIR, `${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(RESULTS_DIR, `${stamp}.md`), table);
  // A partial run (BENCH_PARTS) must not replace the full picture in latest.md.
  if (ALL_PARTS.every((part) => PARTS.has(part))) await writeFile(join(RESULTS_DIR, 'latest.md'), table);
  process.stdout.write(table);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});

/** `{ Query: 0.05, UpdateItem: 1 }` as "0.05 Query, 1 UpdateItem" ("none" when empty). */
function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([action, count]) => `${count} ${action}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
