import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { makeRandomFile, startFtpBackend } from '../test/support/ftp-backends.js';
import { curl } from '../test/support/ftp-clients.js';
import { freePort } from '../test/support/ports.js';
import { startProxyProcess } from '../test/support/proxy-process.js';
import { createTestCa } from '../test/support/test-ca.js';
import { median, percentile, round1 } from './stats.js';

export interface FtpsRow {
  target: string;
  downloadMiBps: number;
  uploadMiBps: number;
  tlsLoginMsMedian: number;
  tlsLoginMsP95: number;
}

/**
 * Time from TCP connect to the 230 reply over explicit FTPS: banner, AUTH TLS, the handshake (a
 * full one: no session is resumed), USER and PASS.
 */
export function tlsLoginMs(
  host: string,
  port: number,
  user: string,
  password: string,
  ca: string,
  timeoutMs = 10_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const raw = connect({ host, port });
    let secured: TLSSocket | undefined;
    const timer = setTimeout(() => fail(new Error(`no login within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      secured?.destroy();
      raw.destroy();
      reject(err);
    };
    let buffer = '';
    let step = 0;
    const onLine = (line: string) => {
      if (step === 0 && line.startsWith('220')) raw.write('AUTH TLS\r\n');
      else if (step === 1 && line.startsWith('234')) {
        raw.removeAllListeners('data');
        secured = tlsConnect({ socket: raw, servername: 'localhost', ca });
        secured.setEncoding('latin1');
        secured.on('data', onData);
        secured.on('error', fail);
        secured.once('secureConnect', () => secured?.write(`USER ${user}\r\n`));
      } else if (step === 2 && line.startsWith('331')) secured?.write(`PASS ${password}\r\n`);
      else if (step === 3 && line.startsWith('230')) {
        clearTimeout(timer);
        const ms = performance.now() - started;
        secured?.end('QUIT\r\n');
        resolve(ms);
      } else fail(new Error(`unexpected reply at step ${step}: ${line}`));
      step += 1;
    };
    const onData = (text: string) => {
      buffer += text;
      const lines = buffer.split('\r\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (/^\d{3} /.test(line)) onLine(line);
    };
    raw.setEncoding('latin1');
    raw.on('data', onData);
    raw.on('error', fail);
  });
}

/**
 * FTPS with PROT P end to end: curl to ProFTPD (mod_tls, reuse required) directly, and through ftpx
 * terminating the client's TLS and opening its own to the backend. Throughput and TLS login latency.
 */
export async function ftpsTransfers(options: {
  sizeMiB: number;
  rounds: number;
  logins: number;
  loginPauseMs: number;
}): Promise<FtpsRow[]> {
  const ca = await createTestCa();
  const backend = await startFtpBackend('proftpd', {
    name: 'bench-ftps',
    tls: { cert: ca.server.cert, key: ca.server.key },
  });
  const configDir = await mkdtemp(join(tmpdir(), 'ftpx-bench-ftps-'));
  let stop: (() => Promise<void>) | undefined;
  try {
    const scratch = join(configDir, 'client');
    await mkdir(scratch);
    const source = join(scratch, 'upload.bin');
    await makeRandomFile(source, options.sizeMiB * 1024 * 1024);
    await makeRandomFile(join(backend.homeDir, 'download.bin'), options.sizeMiB * 1024 * 1024);
    const port = await freePort();
    const config = join(configDir, 'ftpx.yaml');
    await writeFile(
      config,
      [
        `dataDir: ${join(configDir, 'data')}`,
        'log: { level: warn }',
        'listeners:',
        `  - address: 127.0.0.1`,
        `    port: ${port}`,
        '    pool: main',
        `    tls: { certificates: [{ cert: ${ca.server.cert}, key: ${ca.server.key} }] }`,
        'pools:',
        '  - name: main',
        `    backends: [${backend.url}]`,
        `    tls: { caFile: ${ca.caCert} }`,
        '',
      ].join('\n'),
    );
    const proxy = await startProxyProcess({ args: ['serve', '--config', config], port, processGroup: true });
    stop = proxy.stop;
    const caPem = await readFile(ca.caCert, 'utf8');
    const rows: FtpsRow[] = [];
    for (const [target, host, targetPort] of [
      ['direct (ProFTPD mod_tls)', backend.host, backend.port],
      ['through ftpx (FTPS both sides)', '127.0.0.1', port],
    ] as const) {
      const base = `ftp://${backend.user}:${backend.password}@localhost:${targetPort}`;
      const tlsArgs = ['--ssl-reqd', '--cacert', ca.caCert, '--resolve', `localhost:${targetPort}:${host}`];
      const downloads: number[] = [];
      const uploads: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        downloads.push(await timed(() => curlOk([...tlsArgs, `${base}/download.bin`, '-o', '/dev/null'])));
        uploads.push(await timed(() => curlOk([...tlsArgs, '-T', source, `${base}/upload-${round}.bin`])));
        await rm(join(backend.homeDir, `upload-${round}.bin`), { force: true });
      }
      const logins: number[] = [];
      for (let i = 0; i < options.logins; i++) {
        await new Promise((resolve) => setTimeout(resolve, options.loginPauseMs));
        logins.push(await tlsLoginMs(host, targetPort, backend.user, backend.password, caPem));
      }
      const row: FtpsRow = {
        target,
        downloadMiBps: round1(options.sizeMiB / (median(downloads) / 1000)),
        uploadMiBps: round1(options.sizeMiB / (median(uploads) / 1000)),
        tlsLoginMsMedian: round1(median(logins)),
        tlsLoginMsP95: round1(percentile(logins, 0.95)),
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    return rows;
  } finally {
    await stop?.();
    await backend.stop();
    await rm(configDir, { recursive: true, force: true });
    await ca.remove();
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
