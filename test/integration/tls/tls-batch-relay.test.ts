import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedTlsRelayCount, TLS_STAGE_BYTES } from '../../../edge-worker/ftp/data/read-buffer.js';
import {
  expectAbortThenWholeDownload,
  expectStallTimeout,
  loggedBytes,
} from '../../support/data-relay-checks.js';
import {
  type FtpBackend,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/** Many times both staging buffers, and not a multiple of a TLS record. */
const BIG_BYTES = 24 * 1024 * 1024 + 321;

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
    await expectAbortThenWholeDownload(
      {
        host: '127.0.0.1',
        port: tlsToTls.port,
        user: tlsBackend.user,
        password: tlsBackend.password,
        tls: 'explicit',
        caFile: ca.caCert,
        serverName: 'localhost',
      },
      { path: 'big.bin', bytes: BIG_BYTES, sha256: bigSha, local: join(scratch, 'after-abort.bin') },
      'inband',
    );
    expect(batchedTlsRelayCount()).toBe(before + 2);
  }, 120_000);

  it('ABOR mid-download from a TLS backend to a plain client (Telnet IP and Synch), and the session goes on', async () => {
    const before = batchedTlsRelayCount();
    await expectAbortThenWholeDownload(
      { host: '127.0.0.1', port: plainToTls.port, user: tlsBackend.user, password: tlsBackend.password },
      { path: 'big.bin', bytes: BIG_BYTES, sha256: bigSha, local: join(scratch, 'after-abort-plain.bin') },
    );
    expect(batchedTlsRelayCount()).toBe(before + 2);
  }, 120_000);

  it('TimeoutStalled ends a download from a TLS backend whose client stops reading', async () => {
    const before = batchedTlsRelayCount();
    // The socket buffers and both stages fill, and then no byte moves.
    await expectStallTimeout(plainToTls.port, tlsBackend.user, tlsBackend.password, 'big.bin');
    expect(batchedTlsRelayCount()).toBe(before + 1);
  }, 30_000);
});
