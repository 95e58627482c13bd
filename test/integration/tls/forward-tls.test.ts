import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FtpBackend,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../../support/ftp-backends.js';
import { curl, type PythonFtpOp, pythonFtp } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/** Forward destinations here are on loopback, which the destination policy refuses unless told. */
const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'];
const UNABLE = '530 Unable to connect to the destination.';

/** Loopback is not RFC 1918: local clients need a class that enables forwarding. */
const LOOPBACK_CLASS = { name: 'local', from: ['127.0.0.0/8', '::1'], forwardEnabled: true };
const FILE_BYTES = 256 * 1024;

/**
 * TLS bridging in forward mode (issue 7 part 5; mod_proxy's ProxyTLS* docs, lib/proxy/forward.c and the "Forward: TLS"
 * scenario families of mod_proxy's tls.pm regression tests): FTPS and FTP clients (curl, Python's ftplib) through ftpx's
 * forward role to FTPS and FTP destinations (ProFTPD mod_tls, vsftpd), ProxyTLSEngine on, auto and
 * MatchClient, the ProxyTLSTransferProtectionPolicy matrix, user@sni and implicit-FTPS destinations.
 */
describe('forward proxy TLS bridging', () => {
  let ca: TestCa;
  let proftpdTls: FtpBackend;
  let vsftpdTls: FtpBackend;
  let plain: FtpBackend;
  let implicit: FtpBackend;
  /** Implicit FTPS on port 990 (at a loopback address of its own, so no other test's 990 is touched). */
  let implicit990: FtpBackend;
  let scratch: string;
  let localFile: string;
  let fileSha: string;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    const tls = { cert: ca.server.cert, key: ca.server.key };
    [proftpdTls, vsftpdTls, plain, implicit] = await Promise.all([
      startFtpBackend('proftpd', { name: 'fwd-tls-proftpd', tls }),
      startFtpBackend('vsftpd', { name: 'fwd-tls-vsftpd', tls }),
      startFtpBackend('proftpd', { name: 'fwd-plain' }),
      startFtpBackend('proftpd', { name: 'fwd-implicit', tls: { ...tls, implicit: true } }),
    ]);
    implicit990 = await startFtpBackend('proftpd', {
      name: 'fwd-implicit-990',
      host: `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`,
      port: 990,
      tls: { ...tls, implicit: true },
    });
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-forward-tls-'));
    localFile = join(scratch, 'data.bin');
    fileSha = await makeRandomFile(localFile, FILE_BYTES);
    for (const backend of [proftpdTls, vsftpdTls, plain, implicit, implicit990]) {
      await writeHomeFile(backend, 'whoami.txt', backend.name);
      await writeHomeFile(backend, 'data.bin', await readFile(localFile));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(
      [proftpdTls, vsftpdTls, plain, implicit, implicit990].map((backend) => backend?.stop()),
    );
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await ca?.remove();
  });

  const forwardProxy = async (options: {
    method?: string;
    frontend?: 'explicit' | 'implicit';
    listener?: Record<string, unknown>;
    tls?: Record<string, unknown>;
  }) => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [LOOPBACK_CLASS],
      poolSettings: {
        role: 'forward',
        allowDestinationNetworks: LOOPBACK_NETWORKS,
        forward: { method: options.method ?? 'user@host' },
        connectTimeout: '5s',
        tls: { caFile: ca.caCert, enableDiags: true, ...options.tls },
      },
      listener: {
        ...(options.frontend
          ? {
              tls: {
                mode: options.frontend,
                certificates: [{ cert: ca.server.cert, key: ca.server.key }],
                ...(options.listener?.tls as Record<string, unknown> | undefined),
              },
            }
          : {}),
      },
    });
    proxies.push(proxy);
    return proxy;
  };
  const at = (backend: FtpBackend) => `${backend.user}@${backend.host}:${backend.port}`;
  const codes = (results: { reply?: string; error?: string }[]) =>
    results.map((step) => (step.error ?? step.reply ?? '').slice(0, 3));
  /** Backend (destination) TLS handshakes so far: control connections and data connections. */
  const backendHandshakes = (proxy: TestProxy) =>
    proxy.logs.filter((line) => line.msg === 'backend TLS handshake').length;
  const secured = (proxy: TestProxy) =>
    proxy.logs.filter((line) => line.msg === 'destination control connection secured');
  const py = (
    proxy: TestProxy,
    backend: FtpBackend,
    ops: PythonFtpOp[],
    options: Partial<Parameters<typeof pythonFtp>[1]> = {},
  ) =>
    pythonFtp(ops, {
      host: 'localhost',
      port: proxy.port,
      user: at(backend),
      password: backend.password,
      caFile: ca.caCert,
      ...options,
    });
  const curlUser = (backend: FtpBackend) => `${encodeURIComponent(at(backend))}:${backend.password}`;
  /** curl --ssl-reqd through `proxy` to `backend`: downloads data.bin and uploads it as `upload`, checksums compared. */
  const curlTlsRoundTrip = async (proxy: TestProxy, backend: FtpBackend, upload: string) => {
    const down = join(scratch, `${upload}.down`);
    const base = `ftp://${curlUser(backend)}@localhost:${proxy.port}`;
    const got = await curl(['--ssl-reqd', '--cacert', ca.caCert, '-o', down, `${base}/data.bin`]);
    expect(got.stderr).toBe('');
    expect(await sha256File(down)).toBe(fileSha);
    const up = await curl(['--ssl-reqd', '--cacert', ca.caCert, '-T', localFile, `${base}/${upload}`]);
    expect(up.stderr).toBe('');
    expect(await sha256File(join(backend.homeDir, upload))).toBe(fileSha);
  };

  describe('ProxyTLSEngine on', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({ frontend: 'explicit', tls: { engine: 'on' } });
    });

    it('FTPS client -> FTPS destination: curl --ssl-reqd downloads and uploads (ProFTPD and vsftpd)', async () => {
      for (const backend of [proftpdTls, vsftpdTls]) await curlTlsRoundTrip(proxy, backend, 'up-curl.bin');
      expect(proxy.logs.some((line) => line.msg === 'client control connection secured')).toBe(true);
      expect(secured(proxy).every((line) => line.mode === 'required' && line.prot === 'P')).toBe(true);
      // Destination data connections resume the control connection's TLS session (vsftpd requires it).
      expect(
        proxy.logs.filter((line) => line.msg === 'backend TLS handshake' && line.reused === true).length,
      ).toBeGreaterThanOrEqual(4);
    });

    it('FTPS client -> FTPS destination: Python FTP_TLS (session-reusing), PASV and PORT', async () => {
      for (const active of [false, true]) {
        const down = join(scratch, `py-${active}.bin`);
        const { result } = await py(
          proxy,
          vsftpdTls,
          [
            { op: 'login' },
            { op: 'retr', path: 'data.bin', local: down },
            { op: 'stor', path: `up-py-${active}.bin`, local: localFile },
            { op: 'quit' },
          ],
          { tls: 'explicit', active },
        );
        expect(codes(result.results)).toEqual(['234', '200', '230', '226', '226', '221']);
        expect(await sha256File(down)).toBe(fileSha);
        expect(await sha256File(join(vsftpdTls.homeDir, `up-py-${active}.bin`))).toBe(fileSha);
      }
    });

    it('plain FTP client -> FTPS destination: the proxy speaks TLS to the destination', async () => {
      const before = secured(proxy).length;
      const run = await curl([`ftp://${curlUser(proftpdTls)}@127.0.0.1:${proxy.port}/whoami.txt`]);
      expect(run.stdout.toString()).toBe(proftpdTls.name);
      expect(secured(proxy).length).toBe(before + 1);
    });

    it('refuses a destination without TLS (530, the session stays open for another one)', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER ${at(plain)}`)).toBe(UNABLE);
      expect(proxy.logs.some((line) => /refused AUTH TLS/.test(String(line.reason)))).toBe(true);
      expect(await ftp.command(`USER ${at(proftpdTls)}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${proftpdTls.password}`)).toMatch(/^230/);
      ftp.destroy();
    });

    it('HOST before AUTH TLS and the login (frontend_backend_tls_login_after_host)', async () => {
      const { result } = await py(
        proxy,
        proftpdTls,
        [{ op: 'raw', command: 'HOST 127.0.0.1' }, { op: 'auth' }, { op: 'login' }, { op: 'nlst' }],
        { host: '127.0.0.1', tls: 'explicit', tlsLater: true },
      );
      expect(codes(result.results)).toEqual(['220', '234', '230', '226']);
    });

    it('FEAT before login lists the FTPS frontend (AUTH TLS, PBSZ, PROT)', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      const feat = await ftp.command('FEAT');
      expect(feat).toMatch(/AUTH TLS/);
      expect(feat).toMatch(/PBSZ/);
      ftp.destroy();
    });
  });

  describe('ProxyTLSEngine auto', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({ frontend: 'explicit', tls: { engine: 'auto' } });
    });

    it('FTPS client -> plain FTP destination: TLS ends at the proxy', async () => {
      await curlTlsRoundTrip(proxy, plain, 'up-tls.bin');
      expect(secured(proxy)).toEqual([]);
    });

    it('FTPS client -> FTPS destination: auto uses TLS where the destination offers it', async () => {
      const run = await curl([
        '--ssl-reqd',
        '--cacert',
        ca.caCert,
        `ftp://${curlUser(proftpdTls)}@localhost:${proxy.port}/whoami.txt`,
      ]);
      expect(run.stdout.toString()).toBe(proftpdTls.name);
      expect(secured(proxy).map((line) => line.mode)).toEqual(['try']);
    });

    it("refuses a destination whose certificate does not verify (the test CA is not among Node's roots)", async () => {
      const strict = await forwardProxy({ tls: { engine: 'on', caFile: undefined } });
      const ftp = await RawFtp.open(strict.port);
      await ftp.reply();
      expect(await ftp.command(`USER ${at(proftpdTls)}`)).toBe(UNABLE);
      expect(
        strict.logs.some((line) =>
          /unable to get local issuer|self.signed|unable to verify/i.test(String(line.reason)),
        ),
      ).toBe(true);
      ftp.destroy();
    });
  });

  describe('ProxyTLSEngine MatchClient', () => {
    it('a plain client gets a plain destination connection, an FTPS client a TLS one', async () => {
      const proxy = await forwardProxy({ frontend: 'explicit', tls: { engine: 'MatchClient' } });
      const clear = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'nlst' }], { host: '127.0.0.1' });
      expect(codes(clear.result.results)).toEqual(['230', '226']);
      expect(secured(proxy)).toEqual([]);
      const protectedRun = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'nlst' }], {
        tls: 'explicit',
      });
      expect(codes(protectedRun.result.results)).toEqual(['234', '200', '230', '226']);
      expect(secured(proxy).map((line) => line.mode)).toEqual(['required']);
    });

    it('AUTH TLS after USER: the destination connection follows the client', async () => {
      const proxy = await forwardProxy({ frontend: 'explicit', tls: { engine: 'MatchClient' } });
      const { result } = await py(
        proxy,
        proftpdTls,
        [
          { op: 'raw', command: `USER ${at(proftpdTls)}` },
          { op: 'auth' },
          { op: 'raw', command: `PASS ${proftpdTls.password}` },
          { op: 'nlst' },
        ],
        { tls: 'explicit', tlsLater: true },
      );
      expect(codes(result.results)).toEqual(['331', '234', '230', '226']);
      // The destination was connected in plain text at USER, then upgraded with AUTH TLS (PROT P).
      expect(secured(proxy)).toEqual([]);
      expect(backendHandshakes(proxy)).toBe(2);
      // A destination without TLS cannot follow: the session ends rather than go on in plain text.
      const refused = await py(proxy, plain, [{ op: 'raw', command: `USER ${at(plain)}` }, { op: 'auth' }], {
        tls: 'explicit',
        tlsLater: true,
      });
      expect(refused.result.results[1]?.error).toMatch(
        /^421 Service not available, backend TLS negotiation failed/,
      );
    });

    it('implicit FTPS client -> implicit FTPS destination', async () => {
      const proxy = await forwardProxy({ frontend: 'implicit', tls: { engine: 'MatchClient' } });
      const down = join(scratch, 'implicit.bin');
      const got = await curl([
        '--ssl-reqd',
        '--cacert',
        ca.caCert,
        '-o',
        down,
        `ftps://${curlUser(implicit)}@localhost:${proxy.port}/data.bin`,
      ]);
      expect(got.stderr).toBe('');
      expect(await sha256File(down)).toBe(fileSha);
      const { result } = await py(
        proxy,
        implicit,
        [{ op: 'login' }, { op: 'stor', path: 'up-implicit.bin', local: localFile }],
        { tls: 'implicit' },
      );
      expect(codes(result.results)).toEqual(['200', '230', '226']);
      expect(await sha256File(join(implicit.homeDir, 'up-implicit.bin'))).toBe(fileSha);
      expect(secured(proxy).every((line) => line.mode === 'implicit')).toBe(true);
    });
  });

  it('directDataTransfers with a TLS destination control connection and clear data (config_backend_tls_ctrl_use_direct_data_transfers_pasv)', async () => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [LOOPBACK_CLASS],
      poolSettings: {
        role: 'forward',
        allowDestinationNetworks: LOOPBACK_NETWORKS,
        forward: { method: 'user@host' },
        directDataTransfers: true,
        tls: { caFile: ca.caCert, enableDiags: true, engine: 'on', transferProtection: 'clear' },
      },
    });
    proxies.push(proxy);
    const { result } = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'list' }], { host: '127.0.0.1' });
    expect(codes(result.results)).toEqual(['230', '226']);
    expect(result.results[1]?.lines?.some((line) => line.endsWith('whoami.txt'))).toBe(true);
    // Only the control connection is TLS; the data connection went from the client to the destination.
    expect(backendHandshakes(proxy)).toBe(1);
  });

  describe('port 990 destinations are implicit FTPS', () => {
    it('connects with TLS from the first byte unless tls.engine is off', async () => {
      // The server's certificate names 127.0.0.1, not this loopback address.
      const proxy = await forwardProxy({ tls: { engine: 'auto', verifyServer: false } });
      const down = join(scratch, 'port-990.bin');
      const run = await py(
        proxy,
        implicit990,
        [{ op: 'login' }, { op: 'retr', path: 'data.bin', local: down }, { op: 'list' }],
        { host: '127.0.0.1' },
      );
      expect(codes(run.result.results)).toEqual(['230', '226', '226']);
      expect(await sha256File(down)).toBe(fileSha);
      expect(secured(proxy).map((line) => line.mode)).toEqual(['implicit']);
      const off = await forwardProxy({ tls: { engine: 'off' } });
      const ftp = await RawFtp.open(off.port);
      await ftp.reply();
      expect(await ftp.command(`USER ${at(implicit990)}`)).toMatch(
        /^530 Unable to connect to .*:990: port 990 is implicit FTPS, and this proxy's tls\.engine \(ProxyTLSEngine\) is off/,
      );
      ftp.destroy();
    });
  });

  describe('user@sni', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({ method: 'user@sni', frontend: 'explicit', tls: { engine: 'on' } });
    });

    it('connects to the SNI name of the client handshake, relaying USER unchanged', async () => {
      const down = join(scratch, 'sni.bin');
      const { result } = await pythonFtp(
        [{ op: 'login' }, { op: 'retr', path: 'data.bin', local: down }, { op: 'raw', command: 'PWD' }],
        {
          host: '127.0.0.1',
          port: proxy.port,
          user: proftpdTls.user,
          password: proftpdTls.password,
          tls: 'explicit',
          caFile: ca.caCert,
          serverName: `localhost:${proftpdTls.port}`,
        },
      );
      expect(codes(result.results)).toEqual(['234', '200', '230', '226', '257']);
      expect(await sha256File(down)).toBe(fileSha);
      expect(proxy.logs.some((line) => line.destination === `localhost:${proftpdTls.port}`)).toBe(true);
    });

    it('refuses a login without TLS, and one whose SNI names a host:port that is not there', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      // mod_proxy's text; why goes to the log.
      expect(await ftp.command('USER anyone')).toBe('530 Login incorrect.');
      ftp.destroy();
      expect(
        proxy.logs.some(
          (line) =>
            line.msg === 'login failed' &&
            line.reason === 'user@sni needs FTPS with an SNI name: send AUTH TLS first',
        ),
      ).toBe(true);
      const { result } = await pythonFtp([{ op: 'login' }], {
        host: '127.0.0.1',
        port: proxy.port,
        user: proftpdTls.user,
        password: proftpdTls.password,
        tls: 'explicit',
        protP: false,
        caFile: ca.caCert,
        serverName: 'localhost:1',
      });
      expect(result.results[1]?.error).toBe(UNABLE);
      expect(
        proxy.logs.some((line) => line.reason === 'cannot connect to localhost:1: Connection refused'),
      ).toBe(true);
      // Python sends no SNI when it connects to an address: no name, no destination.
      const nameless = await pythonFtp([{ op: 'login' }], {
        host: '127.0.0.1',
        port: proxy.port,
        user: proftpdTls.user,
        password: proftpdTls.password,
        tls: 'explicit',
        protP: false,
        caFile: ca.caCert,
      });
      expect(nameless.result.results[1]?.error).toBe('530 Login incorrect.');
      expect(
        proxy.logs.some(
          (line) =>
            line.reason === 'user@sni needs FTPS with an SNI name: the TLS handshake carried no SNI name',
        ),
      ).toBe(true);
    });

    it('checks the SNI destination against ProxyForwardTo', async () => {
      const limited = await startTestProxy({
        backends: [],
        classes: [LOOPBACK_CLASS],
        poolSettings: {
          role: 'forward',
          allowDestinationNetworks: LOOPBACK_NETWORKS,
          forward: { method: 'user@sni', to: { pattern: '^localhost:1$' } },
          tls: { caFile: ca.caCert, engine: 'on' },
        },
        listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
      });
      proxies.push(limited);
      const { result } = await pythonFtp([{ op: 'login' }], {
        host: '127.0.0.1',
        port: limited.port,
        user: proftpdTls.user,
        password: proftpdTls.password,
        tls: 'explicit',
        protP: false,
        caFile: ca.caCert,
        serverName: `localhost:${proftpdTls.port}`,
      });
      expect(result.results[1]?.error).toBe(UNABLE);
      expect(limited.logs.some((line) => String(line.reason).includes('did not match ProxyForwardTo'))).toBe(
        true,
      );
    });
  });

  describe('TLSRequired on a forward listener', () => {
    it('refuses USER before AUTH TLS and transfers without PROT P', async () => {
      const proxy = await forwardProxy({
        frontend: 'explicit',
        listener: { tls: { required: 'on' } },
        tls: { engine: 'on' },
      });
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER ${at(proftpdTls)}`)).toMatch(
        /^550 SSL\/TLS required on the control channel/,
      );
      ftp.destroy();
      const { result } = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'nlst' }], {
        tls: 'explicit',
        protP: false,
      });
      expect(codes(result.results)).toEqual(['234', '230', '522']);
      const ok = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'nlst' }], { tls: 'explicit' });
      expect(codes(ok.result.results)).toEqual(['234', '200', '230', '226']);
    });
  });

  /**
   * ProxyTLSTransferProtectionPolicy (mod_proxy's docs and the 24-case forward matrix of its regression suite, t/lib/ProFTPD/Tests/Modules/mod_proxy/tls.pm):
   * plain and TLS frontends x LIST and STOR x PASV and PORT x required, clear, client. The destination
   * requires nothing, so what the proxy chose shows in its handshakes: one for the control connection,
   * one more per protected data connection. A TLS frontend's data connection is PROT P (ftplib
   * refuses anything else); a plain frontend's is clear.
   */
  describe.each(['required', 'clear', 'client'] as const)('transferProtection %s', (policy) => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({
        frontend: 'explicit',
        tls: { engine: 'on', transferProtection: policy },
      });
    });

    const cases = (['plain', 'tls'] as const).flatMap((frontend) =>
      (['LIST', 'STOR'] as const).flatMap((verb) =>
        (['PASV', 'PORT'] as const).map((mode) => ({ frontend, verb, mode })),
      ),
    );
    it.each(cases)('$frontend frontend, $verb over $mode', async ({ frontend, verb, mode }) => {
      // client: the client's PROT (P here) when it has TLS, PROT P when it has none (mod_proxy).
      const destinationProtected = policy !== 'clear';
      const before = backendHandshakes(proxy);
      const target = `up-${policy}-${frontend}-${mode}.bin`;
      const op: PythonFtpOp =
        verb === 'LIST' ? { op: 'list' } : { op: 'stor', path: target, local: localFile };
      const { result } = await py(proxy, proftpdTls, [{ op: 'login' }, op], {
        host: frontend === 'tls' ? 'localhost' : '127.0.0.1',
        active: mode === 'PORT',
        ...(frontend === 'tls' ? { tls: 'explicit' as const } : {}),
      });
      expect(codes(result.results)).toEqual([...(frontend === 'tls' ? ['234', '200'] : []), '230', '226']);
      if (verb === 'LIST') {
        expect(result.results.at(-1)?.lines?.some((line) => line.endsWith('whoami.txt'))).toBe(true);
      } else {
        expect(await sha256File(join(proftpdTls.homeDir, target))).toBe(fileSha);
      }
      expect(backendHandshakes(proxy) - before).toBe(destinationProtected ? 2 : 1);
    });

    if (policy === 'client') {
      it("TLS frontend with PROT C: the destination's data connection is clear too", async () => {
        const before = backendHandshakes(proxy);
        const { result } = await py(proxy, proftpdTls, [{ op: 'login' }, { op: 'list' }], {
          tls: 'explicit',
          protP: false,
        });
        expect(codes(result.results)).toEqual(['234', '230', '226']);
        expect(backendHandshakes(proxy) - before).toBe(1);
      });
    }
  });
});
