import { once } from 'node:events';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedTlsRelayCount, TLS_STAGE_BYTES } from '../../../edge-worker/ftp/data/read-buffer.js';
import {
  type FtpBackend,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../../support/ftp-backends.js';
import { curl, pythonFtp } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/** Many times both staging buffers, and not a multiple of a TLS record. */
const BIG_BYTES = 24 * 1024 * 1024 + 321;

/** The byte counts of an xferlog, in order (the 8th field: after the date, the duration, the host). */
async function loggedBytes(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Number(line.trim().split(/\s+/)[7]));
}

/**
 * TLS data sources (read-buffer.ts RecordBatch): the records of a client's or a backend's TLS data
 * connection are read into staging buffers and written once per turn. Proves the path is taken for
 * real clients and a ProFTPD mod_tls backend (which requires TLS session reuse on data
 * connections), in both directions, and that bytes, the transfer log and ABOR stay as they were.
 */
describe('TLS data sources read into staging buffers', () => {
  let ca: TestCa;
  let tlsBackend: FtpBackend;
  let plainBackend: FtpBackend;
  /** client FTPS -> backend FTPS */
  let tlsToTls: TestProxy;
  /** client FTP -> backend FTPS: downloads have a TLS source */
  let plainToTls: TestProxy;
  /** client FTPS -> backend FTP: uploads have a TLS source */
  let tlsToPlain: TestProxy;
  let scratch: string;
  let bigLocal: string;
  let bigSha: string;
  let logFile: string;

  const frontendTls = () => ({
    mode: 'explicit' as const,
    certificates: [{ cert: ca.server.cert, key: ca.server.key }],
  });

  beforeAll(async () => {
    expect(BIG_BYTES).toBeGreaterThan(4 * TLS_STAGE_BYTES);
    ca = await createTestCa();
    [tlsBackend, plainBackend] = await Promise.all([
      startFtpBackend('proftpd', { name: 'batch-tls', tls: { cert: ca.server.cert, key: ca.server.key } }),
      startFtpBackend('proftpd', { name: 'batch-plain' }),
    ]);
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-tls-batch-'));
    bigLocal = join(scratch, 'big.bin');
    bigSha = await makeRandomFile(bigLocal, BIG_BYTES);
    for (const backend of [tlsBackend, plainBackend]) {
      await copyFile(bigLocal, await writeHomeFile(backend, 'big.bin', ''));
    }
    logFile = join(scratch, 'xferlog');
    [tlsToTls, plainToTls, tlsToPlain] = await Promise.all([
      startTestProxy({
        backends: [tlsBackend.url],
        transferLog: logFile,
        listener: { tls: frontendTls() },
        poolSettings: { tls: { caFile: ca.caCert, engine: 'on', enableDiags: true } },
      }),
      startTestProxy({
        backends: [tlsBackend.url],
        listener: { timeouts: { stalled: '1s' } },
        poolSettings: { tls: { caFile: ca.caCert } },
      }),
      startTestProxy({
        backends: [plainBackend.url],
        listener: { tls: frontendTls() },
        poolSettings: { tls: { caFile: ca.caCert } },
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([tlsToTls?.close(), plainToTls?.close(), tlsToPlain?.close()]);
    await Promise.all([tlsBackend?.stop(), plainBackend?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await ca?.remove();
  });

  const url = (proxy: TestProxy, backend: FtpBackend, path: string) =>
    `ftp://${backend.user}:${backend.password}@localhost:${proxy.port}/${path}`;
  const curlTls = (args: string[]) => curl(['--ssl-reqd', '--cacert', ca.caCert, ...args]);

  it('client FTPS -> backend FTPS: curl downloads and uploads byte-exact, counted and logged', async () => {
    const before = batchedTlsRelayCount();
    const down = join(scratch, 'tls-tls-down.bin');
    const got = await curlTls([url(tlsToTls, tlsBackend, 'big.bin'), '-o', down]);
    expect(got.code, got.stderr.toString()).toBe(0);
    expect(await sha256File(down)).toBe(bigSha);
    expect(batchedTlsRelayCount()).toBe(before + 1);
    const put = await curlTls(['-T', bigLocal, url(tlsToTls, tlsBackend, 'up-tls.bin')]);
    expect(put.code, put.stderr.toString()).toBe(0);
    expect(await sha256File(join(tlsBackend.homeDir, 'up-tls.bin'))).toBe(bigSha);
    expect(batchedTlsRelayCount()).toBe(before + 2);
    const bytes = await loggedBytes(logFile);
    expect(bytes.slice(-2)).toEqual([BIG_BYTES, BIG_BYTES]);
    // Data connections to the backend resumed the control connection's TLS session.
    const handshakes = tlsToTls.logs.filter((line) => line.msg === 'backend TLS handshake');
    expect(handshakes.filter((line) => line.reused === true).length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('client FTP -> backend FTPS: a download reads the backend through the staging buffers', async () => {
    const before = batchedTlsRelayCount();
    const down = join(scratch, 'plain-tls-down.bin');
    const got = await curl([url(plainToTls, tlsBackend, 'big.bin'), '-o', down]);
    expect(got.code, got.stderr.toString()).toBe(0);
    expect(await sha256File(down)).toBe(bigSha);
    expect(batchedTlsRelayCount()).toBe(before + 1);
  }, 120_000);

  it('client FTPS -> backend FTP: an upload reads the client through the staging buffers', async () => {
    const before = batchedTlsRelayCount();
    const put = await curlTls(['-T', bigLocal, url(tlsToPlain, plainBackend, 'up-plain.bin')]);
    expect(put.code, put.stderr.toString()).toBe(0);
    expect(await sha256File(join(plainBackend.homeDir, 'up-plain.bin'))).toBe(bigSha);
    expect((await stat(join(plainBackend.homeDir, 'up-plain.bin'))).size).toBe(BIG_BYTES);
    expect(batchedTlsRelayCount()).toBe(before + 1);
  }, 120_000);

  it('ABOR mid-download over FTPS both legs, and the next download is whole', async () => {
    const before = batchedTlsRelayCount();
    const { result } = await pythonFtp(
      [
        { op: 'login' },
        { op: 'abort-during-retr', path: 'big.bin', bytes: 256 * 1024, style: 'inband' },
        { op: 'pwd' },
        { op: 'retr', path: 'big.bin', local: join(scratch, 'after-abort.bin') },
      ],
      {
        host: '127.0.0.1',
        port: tlsToTls.port,
        user: tlsBackend.user,
        password: tlsBackend.password,
        tls: 'explicit',
        caFile: ca.caCert,
        serverName: 'localhost',
      },
    );
    const ops = result.results.filter((op) => op.op !== 'auth' && op.op !== 'prot');
    expect(ops[1]?.error).toBeUndefined();
    expect(ops[1]?.reply).toMatch(/^(426|225|226)/);
    expect(ops[1]?.noopReply).toMatch(/^200/);
    expect(ops[3]?.bytes).toBe(BIG_BYTES);
    expect(await sha256File(join(scratch, 'after-abort.bin'))).toBe(bigSha);
    expect(batchedTlsRelayCount()).toBe(before + 2);
  }, 120_000);

  it('ABOR mid-download from a TLS backend to a plain client (Telnet IP and Synch), and the session goes on', async () => {
    const before = batchedTlsRelayCount();
    const { result } = await pythonFtp(
      [
        { op: 'login' },
        { op: 'abort-during-retr', path: 'big.bin', bytes: 256 * 1024 },
        { op: 'pwd' },
        { op: 'retr', path: 'big.bin', local: join(scratch, 'after-abort-plain.bin') },
      ],
      { host: '127.0.0.1', port: plainToTls.port, user: tlsBackend.user, password: tlsBackend.password },
    );
    expect(result.results[1]?.error).toBeUndefined();
    expect(result.results[1]?.reply).toMatch(/^(426|225|226)/);
    expect(result.results[1]?.noopReply).toMatch(/^200/);
    expect(result.results[3]?.bytes).toBe(BIG_BYTES);
    expect(await sha256File(join(scratch, 'after-abort-plain.bin'))).toBe(bigSha);
    expect(batchedTlsRelayCount()).toBe(before + 2);
  }, 120_000);

  it('TimeoutStalled ends a download from a TLS backend whose client stops reading', async () => {
    const before = batchedTlsRelayCount();
    const ftp = await RawFtp.open(plainToTls.port);
    await ftp.login(tlsBackend.user, tlsBackend.password);
    const epsv = await ftp.command('EPSV');
    const port = Number(/\|\|\|(\d+)\|/.exec(epsv ?? '')?.[1]);
    const data = connect({ host: '127.0.0.1', port });
    await once(data, 'connect');
    // Never read: the socket buffers and both stages fill, and then no byte moves.
    data.pause();
    expect(await ftp.command('RETR big.bin')).toMatch(/^150/);
    const started = Date.now();
    let last: string | undefined;
    for (;;) {
      const reply = await ftp.reply(15_000).catch(() => undefined);
      if (reply === undefined) break;
      last = reply;
    }
    expect(last).toBe('421 Data transfer stall timeout: 1 second');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(batchedTlsRelayCount()).toBe(before + 1);
    data.destroy();
  }, 30_000);
});
