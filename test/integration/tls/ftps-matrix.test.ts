import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FtpBackend,
  type FtpBackendKind,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../../support/ftp-backends.js';
import { curl, lftp, lftpTls, pythonFtp } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

const FILE_BYTES = 3 * 1024 * 1024;

/**
 * Every FTP/FTPS x FTP/FTPS combination through ftpx, with real clients (curl, lftp, Python's
 * ftplib) and real servers (ProFTPD mod_tls and vsftpd, both requiring TLS session reuse on data
 * connections): downloads and uploads with checksums, PROT P and PROT C, explicit and implicit.
 */
describe.each<FtpBackendKind>(['proftpd', 'vsftpd'])('FTPS through ftpx with %s', (kind) => {
  let ca: TestCa;
  let tlsBackend: FtpBackend;
  let plainBackend: FtpBackend;
  let implicitBackend: FtpBackend;
  /** client FTPS (explicit) -> backend FTPS */
  let tlsToTls: TestProxy;
  /** client FTP -> backend FTPS */
  let plainToTls: TestProxy;
  /** client FTPS (explicit) -> backend FTP */
  let tlsToPlain: TestProxy;
  /** client FTPS (implicit) -> backend implicit FTPS (MatchClient) */
  let implicit: TestProxy;
  let scratch: string;
  let fileSha: string;
  let localFile: string;

  const frontendTls = (mode: 'explicit' | 'implicit') => ({
    mode,
    certificates: [{ cert: ca.server.cert, key: ca.server.key }],
  });
  const backendTls = (extra: Record<string, unknown> = {}) => ({ caFile: ca.caCert, ...extra });

  beforeAll(async () => {
    ca = await createTestCa();
    [tlsBackend, plainBackend, implicitBackend] = await Promise.all([
      startFtpBackend(kind, { name: `${kind}-tls`, tls: { cert: ca.server.cert, key: ca.server.key } }),
      startFtpBackend(kind, { name: `${kind}-plain` }),
      startFtpBackend(kind, {
        name: `${kind}-implicit`,
        tls: { cert: ca.server.cert, key: ca.server.key, implicit: true },
      }),
    ]);
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-ftps-'));
    localFile = join(scratch, 'data.bin');
    fileSha = await makeRandomFile(localFile, FILE_BYTES);
    for (const backend of [tlsBackend, plainBackend, implicitBackend]) {
      await writeHomeFile(backend, 'data.bin', await readFile(localFile));
    }
    [tlsToTls, plainToTls, tlsToPlain, implicit] = await Promise.all([
      startTestProxy({
        backends: [tlsBackend.url],
        listener: { tls: frontendTls('explicit') },
        poolSettings: { tls: backendTls({ engine: 'on', enableDiags: true }) },
      }),
      startTestProxy({ backends: [tlsBackend.url], poolSettings: { tls: backendTls() } }),
      startTestProxy({
        backends: [plainBackend.url],
        listener: { tls: frontendTls('explicit') },
        poolSettings: { tls: backendTls() },
      }),
      startTestProxy({
        backends: [implicitBackend.url.replace('ftps://', 'ftp://')],
        listener: { tls: frontendTls('implicit') },
        poolSettings: { tls: backendTls({ engine: 'MatchClient' }) },
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([tlsToTls?.close(), plainToTls?.close(), tlsToPlain?.close(), implicit?.close()]);
    await Promise.all([tlsBackend?.stop(), plainBackend?.stop(), implicitBackend?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await ca?.remove();
  });

  const curlTls = (
    proxy: TestProxy,
    backend: FtpBackend,
    path: string,
    scheme = 'ftp',
    extra: string[] = [],
  ) =>
    curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      ...extra,
      `${scheme}://${backend.user}:${backend.password}@localhost:${proxy.port}/${path}`,
    ]);

  it('client FTPS -> backend FTPS: curl downloads and uploads with PROT P', async () => {
    const down = join(scratch, `tls-tls-${kind}.bin`);
    const got = await curlTls(tlsToTls, tlsBackend, 'data.bin', 'ftp', ['-o', down]);
    expect(got.stderr).toBe('');
    expect(await sha256File(down)).toBe(fileSha);
    const up = await curlTls(tlsToTls, tlsBackend, 'up-curl.bin', 'ftp', ['-T', localFile]);
    expect(up.stderr).toBe('');
    expect(await sha256File(join(tlsBackend.homeDir, 'up-curl.bin'))).toBe(fileSha);
    const handshakes = tlsToTls.logs.filter((line) => line.msg === 'client control connection secured');
    expect(handshakes.length).toBeGreaterThanOrEqual(2);
    // Backend side: a full handshake on the control connection, resumed ones on the data connections.
    const backendHandshakes = tlsToTls.logs.filter((line) => line.msg === 'backend TLS handshake');
    expect(backendHandshakes.filter((line) => line.reused === true).length).toBeGreaterThanOrEqual(2);
    expect(
      backendHandshakes.every((line) => line.alpn === false || line.alpn === null || line.alpn === 'ftp'),
    ).toBe(true);
  });

  it('client FTPS -> backend FTPS: lftp with PROT P and with PROT C', async () => {
    for (const protect of [true, false]) {
      const down = join(scratch, `lftp-${protect}-${kind}.bin`);
      const run = await lftp(
        `${lftpTls(ca.caCert, protect)}; open -u ${tlsBackend.user},${tlsBackend.password} ftp://localhost:${tlsToTls.port}; get data.bin -o ${down}; put ${localFile} -o up-lftp-${protect}.bin`,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(await sha256File(down)).toBe(fileSha);
      expect(await sha256File(join(tlsBackend.homeDir, `up-lftp-${protect}.bin`))).toBe(fileSha);
    }
  });

  it('client FTPS -> backend FTPS: Python FTP_TLS (session-reusing) PROT P, PROT C, active mode', async () => {
    for (const [protP, active] of [
      [true, false],
      [false, false],
      [true, true],
    ] as const) {
      const down = join(scratch, `py-${protP}-${active}-${kind}.bin`);
      const { result } = await pythonFtp(
        [
          { op: 'login' },
          { op: 'retr', path: 'data.bin', local: down },
          { op: 'stor', path: `up-py-${protP}-${active}.bin`, local: localFile },
          { op: 'quit' },
        ],
        {
          host: 'localhost',
          port: tlsToTls.port,
          user: tlsBackend.user,
          password: tlsBackend.password,
          tls: 'explicit',
          protP,
          active,
          caFile: ca.caCert,
        },
      );
      expect(result.results.map((step) => step.error ?? step.reply?.slice(0, 3))).toEqual([
        '234',
        ...(protP ? ['200'] : []),
        '230',
        '226',
        '226',
        '221',
      ]);
      expect(await sha256File(down)).toBe(fileSha);
      expect(await sha256File(join(tlsBackend.homeDir, `up-py-${protP}-${active}.bin`))).toBe(fileSha);
    }
  });

  it('client FTP -> backend FTPS: plain clients reach a TLS backend', async () => {
    const down = join(scratch, `plain-tls-${kind}.bin`);
    const got = await curl([
      '-o',
      down,
      `ftp://${tlsBackend.user}:${tlsBackend.password}@127.0.0.1:${plainToTls.port}/data.bin`,
    ]);
    expect(got.stderr).toBe('');
    expect(await sha256File(down)).toBe(fileSha);
    const { result } = await pythonFtp(
      [{ op: 'login' }, { op: 'stor', path: 'up-plain.bin', local: localFile }, { op: 'quit' }],
      { host: '127.0.0.1', port: plainToTls.port, user: tlsBackend.user, password: tlsBackend.password },
    );
    expect(result.results.map((step) => step.error ?? step.reply?.slice(0, 3))).toEqual([
      '230',
      '226',
      '221',
    ]);
    expect(await sha256File(join(tlsBackend.homeDir, 'up-plain.bin'))).toBe(fileSha);
  });

  it('client FTPS -> backend FTP: TLS ends at the proxy', async () => {
    const down = join(scratch, `tls-plain-${kind}.bin`);
    const got = await curlTls(tlsToPlain, plainBackend, 'data.bin', 'ftp', ['-o', down]);
    expect(got.stderr).toBe('');
    expect(await sha256File(down)).toBe(fileSha);
    const up = await curlTls(tlsToPlain, plainBackend, 'up-curl.bin', 'ftp', ['-T', localFile]);
    expect(up.stderr).toBe('');
    expect(await sha256File(join(plainBackend.homeDir, 'up-curl.bin'))).toBe(fileSha);
  });

  it('implicit FTPS client -> implicit FTPS backend (MatchClient): curl, lftp and Python', async () => {
    const down = join(scratch, `implicit-${kind}.bin`);
    const got = await curlTls(implicit, implicitBackend, 'data.bin', 'ftps', ['-o', down]);
    expect(got.stderr).toBe('');
    expect(await sha256File(down)).toBe(fileSha);
    const { result } = await pythonFtp(
      [{ op: 'login' }, { op: 'stor', path: 'up-implicit.bin', local: localFile }, { op: 'quit' }],
      {
        host: 'localhost',
        port: implicit.port,
        user: implicitBackend.user,
        password: implicitBackend.password,
        tls: 'implicit',
        caFile: ca.caCert,
      },
    );
    expect(result.welcome).toMatch(new RegExp(`^220.*${kind}-implicit`));
    expect(result.results.map((step) => step.error ?? step.reply?.slice(0, 3))).toEqual([
      '200',
      '230',
      '226',
      '221',
    ]);
    expect(await sha256File(join(implicitBackend.homeDir, 'up-implicit.bin'))).toBe(fileSha);
    const lftpDown = join(scratch, `implicit-lftp-${kind}.bin`);
    const run = await lftp(
      `${lftpTls(ca.caCert)}; open -u ${implicitBackend.user},${implicitBackend.password} ftps://localhost:${implicit.port}; get data.bin -o ${lftpDown}`,
    );
    expect(run.stderr).toBe('');
    expect(await sha256File(lftpDown)).toBe(fileSha);
  });
});
