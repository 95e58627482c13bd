/**
 * SFTP throughput: OpenSSH's sftp client downloading and uploading one file, directly from a Debian
 * OpenSSH sshd and through ftpx, and the proxy's CPU seconds per GiB relayed. Part of `npm run
 * bench`; alone with `npm run bench:sftp` (BENCH_SFTP_MIB sets the size, 256 by default).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeRandomFile } from '../test/support/files.js';
import { freePort } from '../test/support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../test/support/proxy-process.js';
import { sftpBatch } from '../test/support/ssh-clients.js';
import { makeKeyPair, startSshd } from '../test/support/sshd.js';
import { median, ratio, round1 } from './stats.js';

export interface SftpRow {
  target: string;
  downloadMiBps: number;
  uploadMiBps: number;
  /** Through ftpx: the proxy process's user+system CPU seconds per GiB relayed. */
  cpuSecondsPerGiB?: number;
}

export interface SftpBenchResult {
  sizeMiB: number;
  /** ssh2's channel window in this run (patches/ssh2+1.17.0.patch raises it). */
  ssh2WindowMiB: number;
  rows: SftpRow[];
}

const CLOCK_TICKS = 100;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command name).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function ssh2WindowMiB(): Promise<number> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const file = join(require.resolve('ssh2/package.json'), '..', 'lib', 'Channel.js');
  const match = /const MAX_WINDOW = (\d+) \* 1024 \* 1024/.exec(await readFile(file, 'utf8'));
  return Number(match?.[1] ?? 0);
}

export async function sftpBench(sizeMiB: number, rounds: number): Promise<SftpBenchResult> {
  const sshd = await startSshd();
  let proxy: ProxyProcess | undefined;
  try {
    const scratch = sshd.workDir;
    const hostKey = join(scratch, 'proxy_host_ed25519');
    await makeKeyPair(hostKey, 'ed25519');
    const bytes = sizeMiB * 1024 * 1024;
    const remote = join(sshd.dataDir, 'download.bin');
    const local = join(scratch, 'upload.bin');
    await makeRandomFile(remote, bytes);
    await makeRandomFile(local, bytes);
    const port = await freePort();
    const unauditedPort = await freePort();
    const config = join(scratch, 'ftpx.yaml');
    const listener = (listenPort: number, audit: boolean) =>
      `  - { address: 127.0.0.1, port: ${listenPort}, pool: main, protocol: sftp, sftp: { audit: ${audit}, hostKeys: [${hostKey}] } }`;
    await writeFile(
      config,
      [
        `dataDir: ${join(scratch, 'ftpx-data')}`,
        'log: { level: warn }',
        'listeners:',
        listener(port, true),
        listener(unauditedPort, false),
        'pools:',
        '  - name: main',
        `    backends: [${sshd.url}]`,
        '',
      ].join('\n'),
    );
    proxy = await startProxyProcess({ args: ['serve', '--config', config], port: unauditedPort });
    const auth = { password: sshd.user.password };
    const rows: SftpRow[] = [];
    for (const [target, targetPort] of [
      ['direct (OpenSSH sshd)', sshd.port],
      ['through ftpx', port],
      ['through ftpx (sftp.audit off)', unauditedPort],
    ] as const) {
      const endpoint = { host: '127.0.0.1', port: targetPort, user: sshd.user.name };
      const proxied = targetPort !== sshd.port;
      const cpuBefore = proxied ? await cpuSeconds(proxy.pid) : 0;
      const downloads: number[] = [];
      const uploads: number[] = [];
      for (let round = 0; round < rounds; round++) {
        downloads.push(await timed(() => sftpOk(endpoint, auth, [`get ${remote} /dev/null`])));
        const target = join(sshd.dataDir, `upload-${round}.bin`);
        uploads.push(await timed(() => sftpOk(endpoint, auth, [`put ${local} ${target}`])));
        await rm(target, { force: true });
      }
      const row: SftpRow = {
        target,
        downloadMiBps: round1(sizeMiB / (median(downloads) / 1000)),
        uploadMiBps: round1(sizeMiB / (median(uploads) / 1000)),
      };
      if (proxied) {
        const relayedGiB = (2 * rounds * sizeMiB) / 1024;
        row.cpuSecondsPerGiB = round1(((await cpuSeconds(proxy.pid)) - cpuBefore) / relayedGiB);
      }
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    return { sizeMiB, ssh2WindowMiB: await ssh2WindowMiB(), rows };
  } finally {
    await proxy?.stop();
    await sshd.stop();
  }
}

async function sftpOk(
  endpoint: { host: string; port: number; user: string },
  auth: { password: string },
  commands: string[],
): Promise<void> {
  const result = await sftpBatch(endpoint, auth, commands, { timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`sftp ${commands.join('; ')} failed: ${result.stderr}`);
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The markdown section of the results. */
export function sftpSection(result: SftpBenchResult, rounds: number): string[] {
  const [direct, ...proxied] = result.rows;
  return [
    `## SFTP (OpenSSH sftp client, ${result.sizeMiB} MiB, median of ${rounds}; ssh2 channel window ${result.ssh2WindowMiB} MiB)`,
    '',
    '| target | download MiB/s | upload MiB/s | proxy CPU s per GiB |',
    '|---|---|---|---|',
    ...result.rows.map(
      (r) => `| ${r.target} | ${r.downloadMiBps} | ${r.uploadMiBps} | ${r.cpuSecondsPerGiB ?? '-'} |`,
    ),
    '',
    ...(direct
      ? proxied.map(
          (row) =>
            `- ${row.target} / direct: download ${ratio(row.downloadMiBps, direct.downloadMiBps)}, upload ${ratio(row.uploadMiBps, direct.uploadMiBps)}`,
        )
      : []),
    '',
  ];
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const size = Number(process.env.BENCH_SFTP_MIB ?? 256);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  sftpBench(size, rounds).then(
    (result) => process.stdout.write(`${sftpSection(result, rounds).join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`sftp bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
