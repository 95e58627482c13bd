/**
 * The throughput and login-latency benchmark: direct to a real ProFTPD, through ftpx, and through
 * ProFTPD's own mod_proxy, side by side in one run. Writes bench/results/<timestamp>.json and a Markdown table next to it.
 *
 *   npm run bench                       # 512 MiB transfers, 30 logins
 *   BENCH_SIZE_MIB=64 npm run bench     # a quicker run
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makeRandomFile, startFtpBackend } from '../test/support/ftp-backends.js';
import { curl } from '../test/support/ftp-clients.js';
import { freePort } from '../test/support/ports.js';
import { type ModProxy, startModProxy } from '../test/support/proftpd-mod-proxy.js';
import { type ProxyProcess, startProxyProcess } from '../test/support/proxy-process.js';

const SIZE_MIB = Number(process.env.BENCH_SIZE_MIB ?? 512);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * ProFTPD's standalone master sleeps ~0.4 s after a session ends before it accepts the next one, so
 * back-to-back logins would measure that sleep; a pause between logins measures the login itself.
 */
const LOGIN_PAUSE_MS = Number(process.env.BENCH_LOGIN_PAUSE_MS ?? 600);
const RESULTS_DIR = new URL('../../bench/results/', import.meta.url).pathname;

interface Measurement {
  target: string;
  downloadMiBps: number;
  uploadMiBps: number;
  loginMsMedian: number;
  loginMsP95: number;
  proxyPeakRssMiB?: number;
}

async function main(): Promise<void> {
  const backend = await startFtpBackend('proftpd', { name: 'bench-proftpd' });
  const scratch = join(backend.homeDir, '..', 'bench-client');
  await mkdir(scratch, { recursive: true });
  let proxy: ProxyProcess | undefined;
  let modProxy: ModProxy | undefined;
  try {
    const source = join(scratch, 'upload.bin');
    await makeRandomFile(source, SIZE_MIB * 1024 * 1024);
    await makeRandomFile(join(backend.homeDir, 'download.bin'), SIZE_MIB * 1024 * 1024);
    proxy = await startProxyProcess({ backends: [backend.url], port: await freePort() });
    modProxy = await startModProxy(backend.url);

    const targets = [
      { target: 'direct (ProFTPD)', host: backend.host, port: backend.port },
      { target: 'through ftpx', host: '127.0.0.1', port: proxy.port },
      { target: 'through ProFTPD mod_proxy', host: '127.0.0.1', port: modProxy.port },
    ];
    const results: Measurement[] = [];
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
      for (let i = 0; i < LOGINS; i++) {
        await new Promise((resolve) => setTimeout(resolve, LOGIN_PAUSE_MS));
        logins.push(await loginMs(host, port, backend.user, backend.password));
      }
      logins.sort((a, b) => a - b);
      const measurement: Measurement = {
        target,
        downloadMiBps: round1(SIZE_MIB / (median(downloads) / 1000)),
        uploadMiBps: round1(SIZE_MIB / (median(uploads) / 1000)),
        loginMsMedian: round1(median(logins)),
        loginMsP95: round1(logins[Math.floor(logins.length * 0.95)] ?? Number.NaN),
      };
      if (port === proxy.port) measurement.proxyPeakRssMiB = await peakRssMiB(proxy.pid);
      results.push(measurement);
      process.stderr.write(`${JSON.stringify(measurement)}\n`);
    }
    await writeResults(results);
  } finally {
    await proxy?.stop();
    await modProxy?.stop();
    await backend.stop();
  }
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

/** Time from TCP connect to the 230 reply: what a user waits for before the first command. */
function loginMs(host: string, port: number, user: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port });
    let buffer = '';
    let step = 0;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      buffer += text;
      const lines = buffer.split('\r\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!/^\d{3} /.test(line)) continue;
        if (step === 0 && line.startsWith('220')) socket.write(`USER ${user}\r\n`);
        else if (step === 1 && line.startsWith('331')) socket.write(`PASS ${password}\r\n`);
        else if (step === 2 && line.startsWith('230')) {
          const ms = performance.now() - started;
          socket.end('QUIT\r\n');
          resolve(ms);
        } else reject(new Error(`unexpected reply at step ${step}: ${line}`));
        step += 1;
      }
    });
    socket.on('error', reject);
  });
}

async function peakRssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? round1(Number(match[1]) / 1024) : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

async function writeResults(results: Measurement[]): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const direct = results[0];
  const table = [
    `# ftpx benchmark ${new Date().toISOString()}`,
    '',
    `${SIZE_MIB} MiB files, median of ${ROUNDS} transfers with curl; ${LOGINS} logins (connect to 230), ${LOGIN_PAUSE_MS} ms apart. Loopback, one 2-core machine: client, proxy and server share it.`,
    '',
    '| target | download MiB/s | upload MiB/s | login ms (median) | login ms (p95) | proxy peak RSS MiB |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.downloadMiBps} | ${r.uploadMiBps} | ${r.loginMsMedian} | ${r.loginMsP95} | ${r.proxyPeakRssMiB ?? '-'} |`,
    ),
    '',
    ...(direct
      ? results
          .slice(1)
          .map(
            (r) =>
              `Ratio ${r.target} / direct: download ${ratio(r.downloadMiBps, direct.downloadMiBps)}, upload ${ratio(r.uploadMiBps, direct.uploadMiBps)}, login ${ratio(r.loginMsMedian, direct.loginMsMedian)}.`,
          )
      : []),
    '',
  ].join('\n');
  const meta = {
    node: process.version,
    sizeMiB: SIZE_MIB,
    rounds: ROUNDS,
    logins: LOGINS,
    date: new Date().toISOString(),
  };
  await writeFile(join(RESULTS_DIR, `${stamp}.json`), `${JSON.stringify({ meta, results }, null, 2)}\n`);
  await writeFile(join(RESULTS_DIR, `${stamp}.md`), table);
  await writeFile(join(RESULTS_DIR, 'latest.md'), table);
  process.stdout.write(table);
}

const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`);

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
