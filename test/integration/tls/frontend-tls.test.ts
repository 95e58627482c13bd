import { readFile } from 'node:fs/promises';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSslTlv, readProxyHeader } from '../../../edge-worker/proxy-protocol/decode.js';
import { type ProxyHeader, TLV } from '../../../edge-worker/proxy-protocol/types.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl, pythonFtp } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { runCommand } from '../../support/run-command.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

const HELLO = 'hello over FTPS\n';

/** `openssl s_client -starttls ftp -brief` to the proxy on `port`, which QUITs once the handshake is done. */
function sClientStartTls(port: number, extra: string[]) {
  return runCommand(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-starttls', 'ftp', '-brief', ...extra],
    { input: 'QUIT\r\n', timeoutMs: 10_000 },
  );
}

/** Reads from `socket` until `pattern` matches what arrived, or the socket closes or times out. */
function readUntil(socket: Socket, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (pattern.test(text)) done();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/**
 * FTPS towards clients: AUTH TLS and its companions, TLSRequired, session reuse on data connections,
 * implicit FTPS, client certificates and SNI (certificate and pool), with a plain ProFTPD behind.
 */
describe('frontend FTPS', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let altBackend: FtpBackend;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    [backend, altBackend] = await Promise.all([
      startFtpBackend('proftpd', { name: 'frontend-tls-main' }),
      startFtpBackend('proftpd', { name: 'frontend-tls-alt' }),
    ]);
    for (const server of [backend, altBackend]) {
      await writeHomeFile(server, 'hello.txt', HELLO);
      await writeHomeFile(server, 'whoami.txt', server.name);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([backend?.stop(), altBackend?.stop()]);
    await ca?.remove();
  });

  const proxyWith = async (tls: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const proxy = await startTestProxy({
      backends: [backend.url],
      listener: {
        tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }], ...tls },
      },
      ...extra,
    });
    proxies.push(proxy);
    return proxy;
  };
  const py = (
    proxy: TestProxy,
    ops: Parameters<typeof pythonFtp>[0],
    options: Record<string, unknown> = {},
  ) =>
    pythonFtp(ops, {
      host: 'localhost',
      port: proxy.port,
      user: backend.user,
      password: backend.password,
      caFile: ca.caCert,
      ...options,
    });
  const codes = (results: { reply?: string; error?: string }[]) =>
    results.map((step) => (step.error ?? step.reply ?? '').slice(0, 3));

  it('answers AUTH, PBSZ, PROT and CCC as RFC 4217 and mod_tls do, and lists them in FEAT', async () => {
    const proxy = await proxyWith({});
    const plain = await py(proxy, [
      { op: 'raw', command: 'FEAT' },
      { op: 'raw', command: 'PBSZ 0' },
      { op: 'raw', command: 'PROT P' },
      { op: 'raw', command: 'AUTH KERBEROS_V4' },
    ]);
    expect(plain.result.results[0]?.reply).toMatch(/ AUTH TLS\r?\n/);
    expect(plain.result.results[0]?.reply).toMatch(/ PBSZ\r?\n/);
    expect(codes(plain.result.results.slice(1))).toEqual(['503', '503', '504']);
    const secured = await py(
      proxy,
      [
        { op: 'raw', command: 'CCC' },
        { op: 'raw', command: 'PROT S' },
        { op: 'raw', command: 'AUTH TLS' },
        { op: 'login' },
        { op: 'nlst' },
      ],
      { tls: 'explicit' },
    );
    expect(codes(secured.result.results)).toEqual(['234', '200', '534', '536', '503', '230', '226']);
    expect(secured.result.results[2]?.error).toMatch(/534 CCC refused/);
  });

  it('refuses a data connection that does not resume the control session; NoSessionReuseRequired allows it', async () => {
    const strict = await proxyWith({});
    const stock = await py(strict, [{ op: 'login' }, { op: 'nlst' }, { op: 'raw', command: 'NOOP' }], {
      tls: 'explicit',
      reuseSession: false,
    });
    expect(codes(stock.result.results).slice(0, 3)).toEqual(['234', '200', '230']);
    // The refused handshake shows as an SSL error in ftplib; the proxy's 425 comes right after.
    expect(stock.result.results[3]?.error).toBeDefined();
    expect(stock.result.results[4]?.error ?? stock.result.results[4]?.reply).toMatch(
      /^425 .*did not reuse the TLS session/,
    );
    expect(strict.logs.some((line) => line.msg === 'client data connection refused')).toBe(true);
    const lenient = await proxyWith({ sessionReuseRequired: false });
    const ok = await py(lenient, [{ op: 'login' }, { op: 'nlst' }], { tls: 'explicit', reuseSession: false });
    expect(codes(ok.result.results)).toEqual(['234', '200', '230', '226']);
    expect(ok.result.results[3]?.lines).toContain('hello.txt');
  });

  it('TLSRequired on: no login without TLS, no transfer without PROT P', async () => {
    const proxy = await proxyWith({ required: 'on' });
    const plain = await py(proxy, [{ op: 'login' }, { op: 'raw', command: 'SYST' }]);
    expect(plain.result.results[0]?.error).toBe('550 SSL/TLS required on the control channel');
    expect(codes(plain.result.results)).toEqual(['550', '215']);
    const clear = await py(proxy, [{ op: 'login' }, { op: 'nlst' }], { tls: 'explicit', protP: false });
    expect(codes(clear.result.results)).toEqual(['234', '230', '522']);
    const protP = await py(proxy, [{ op: 'login' }, { op: 'retr', path: 'hello.txt', local: '/dev/null' }], {
      tls: 'explicit',
    });
    expect(codes(protP.result.results)).toEqual(['234', '200', '230', '226']);
  });

  it('TLSRequired !data: PROT P refused, PROT C data works; auth: TLS before USER only', async () => {
    const noData = await proxyWith({ required: '!data' });
    const refused = await py(noData, [{ op: 'login' }, { op: 'nlst' }], { tls: 'explicit' });
    expect(codes(refused.result.results)).toEqual(['234', '534', '230', '226']);
    const auth = await proxyWith({ required: 'auth' });
    const plain = await py(auth, [{ op: 'raw', command: 'NOOP' }, { op: 'login' }]);
    expect(codes(plain.result.results)).toEqual(['200', '550']);
  });

  it('drops commands pipelined in plain text after AUTH TLS (no command injection)', async () => {
    const proxy = await proxyWith({});
    const raw = netConnect({ host: '127.0.0.1', port: proxy.port });
    await readUntil(raw, /^220 .*\r\n/m);
    raw.write('AUTH TLS\r\nUSER injected\r\n');
    expect(await readUntil(raw, /^234 .*\r\n/m)).toMatch(/^234 /m);
    const secured = tlsConnect({
      socket: raw,
      servername: 'localhost',
      ca: [await readFile(ca.caCert, 'utf8')],
    });
    await new Promise<void>((resolve, reject) => {
      secured.once('secureConnect', resolve);
      secured.once('error', reject);
    });
    secured.write('NOOP\r\n');
    // Had "USER injected" been run, its 331 would come first.
    expect(await readUntil(secured, /\r\n/)).toMatch(/^200 /);
    secured.destroy();
  });

  it('a client that sends garbage instead of a ClientHello after AUTH TLS is closed; others are served', async () => {
    const proxy = await proxyWith({});
    const raw = netConnect({ host: '127.0.0.1', port: proxy.port });
    raw.on('error', () => {});
    await readUntil(raw, /^220 .*\r\n/m);
    raw.write('AUTH TLS\r\n');
    expect(await readUntil(raw, /^234 .*\r\n/m)).toMatch(/^234 /m);
    raw.write('USER anonymous\r\nPASS x\r\n');
    await readUntil(raw, /never/, 5000);
    expect(raw.destroyed || raw.readableEnded).toBe(true);
    const run = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      `ftp://${backend.user}:${backend.password}@localhost:${proxy.port}/hello.txt`,
    ]);
    expect(run.stdout.toString()).toBe(HELLO);
    expect(proxy.logs.find((line) => line.msg === 'client TLS handshake failed after AUTH')?.reason).toMatch(
      /TLS handshake failed/,
    );
  });

  it('implicit FTPS: TLS from the first byte; garbage and plain FTP are closed, the worker keeps serving', async () => {
    const proxy = await proxyWith({ mode: 'implicit' });
    const garbage = netConnect({ host: '127.0.0.1', port: proxy.port });
    garbage.on('error', () => {});
    garbage.write('GET / HTTP/1.0\r\n\r\n\u0000\u00ff garbage');
    const answer = await readUntil(garbage, /never/, 5000);
    expect(answer).not.toMatch(/^220/);
    expect(garbage.destroyed || garbage.readableEnded).toBe(true);
    const plain = await RawFtp.open(proxy.port);
    expect(await plain.command('USER anonymous')).toBeUndefined();
    expect(await plain.closed()).toBe(true);
    const run = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      `ftps://${backend.user}:${backend.password}@localhost:${proxy.port}/hello.txt`,
    ]);
    expect(run.stdout.toString()).toBe(HELLO);
    expect(proxy.logs.some((line) => line.msg === 'implicit TLS handshake failed')).toBe(true);
  });

  it('client certificates: required with verifyClient on, checked when sent with optional', async () => {
    const required = await proxyWith({ verifyClient: 'on', clientCA: ca.caCert });
    const url = `ftp://${backend.user}:${backend.password}@localhost:${required.port}/hello.txt`;
    const without = await curl(['--ssl-reqd', '--cacert', ca.caCert, url]);
    expect(without.stdout.toString()).toBe('');
    expect(without.code).not.toBe(0);
    const withCert = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      '--cert',
      ca.client.cert,
      '--key',
      ca.client.key,
      url,
    ]);
    expect(withCert.stdout.toString()).toBe(HELLO);
    const untrusted = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      '--cert',
      ca.unknownCa.cert,
      '--key',
      ca.unknownCa.key,
      url,
    ]);
    expect(untrusted.stdout.toString()).toBe('');
    expect(required.logs.some((line) => String(line.reason).includes('client certificate refused'))).toBe(
      true,
    );
    const optional = await proxyWith({ verifyClient: 'optional', clientCA: ca.caCert });
    const anonymous = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      `ftp://${backend.user}:${backend.password}@localhost:${optional.port}/hello.txt`,
    ]);
    expect(anonymous.stdout.toString()).toBe(HELLO);
    // A certificate from a CA the listener does not trust is refused even though certificates are optional.
    const foreign = await curl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      '--cert',
      ca.unknownCa.cert,
      '--key',
      ca.unknownCa.key,
      `ftp://${backend.user}:${backend.password}@localhost:${optional.port}/hello.txt`,
    ]);
    expect(foreign.stdout.toString()).toBe('');
  });

  it('PROXY v2 TLVs tell the backend about the client TLS session (ftps ALPN, SSL TLV with CN)', async () => {
    const headers: ProxyHeader[] = [];
    const fake = createServer((socket) => {
      socket.on('error', () => {});
      void readProxyHeader(socket, { timeoutMs: 5000, required: true }).then((result) => {
        if (result.kind === 'header') headers.push(result.header);
        socket.write('220 fake backend\r\n');
        socket.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) {
            socket.write(/^QUIT/i.test(line) ? '221 bye\r\n' : '500 not here\r\n');
          }
        });
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as { port: number }).port;
      const proxy = await startTestProxy({
        backends: [`ftp://127.0.0.1:${port}`],
        listener: {
          tls: {
            mode: 'implicit',
            certificates: [{ cert: ca.server.cert, key: ca.server.key }],
            verifyClient: 'optional',
            clientCA: ca.caCert,
          },
        },
        poolSettings: { sendProxyProtocol: 'v2-tlvs' },
      });
      proxies.push(proxy);
      const { result } = await py(proxy, [{ op: 'quit' }], {
        tls: 'implicit',
        protP: false,
        clientCert: ca.client.cert,
        clientKey: ca.client.key,
      });
      expect(result.connectError).toBeUndefined();
      expect(result.welcome).toMatch(/^220 fake backend/);
      const tlvs = headers[0]?.tlvs ?? [];
      expect(tlvs.find((t) => t.type === TLV.ALPN)?.value.toString()).toBe('ftps');
      const ssl = tlvs.find((t) => t.type === TLV.SSL);
      expect(ssl).toBeDefined();
      expect(decodeSslTlv(ssl?.value ?? Buffer.alloc(0))).toMatchObject({
        tls: true,
        clientCertificate: true,
        verify: 0,
        version: 'TLSv1.3',
        commonName: 'client',
        cipher: expect.stringMatching(/^TLS_/),
      });
    } finally {
      fake.close();
    }
  });

  it('prefers TLS_AES_128_GCM_SHA256 on control and data connections unless configured; ChaCha20-first clients keep it', async () => {
    // curl (OpenSSL's default order) offers TLS_AES_256_GCM_SHA384 first; `-v` names the suite of
    // every connection, control and data.
    const suitesVia = async (proxy: TestProxy) => {
      const run = await curl([
        '-v',
        '--ssl-reqd',
        '--cacert',
        ca.caCert,
        `ftp://${backend.user}:${backend.password}@localhost:${proxy.port}/hello.txt`,
      ]);
      expect(run.stdout.toString()).toBe(HELLO);
      return [...run.stderr.matchAll(/SSL connection using TLSv1\.3 \/ (\S+)/g)].map((match) => match[1]);
    };
    const sClientSuite = async (proxy: TestProxy, offered: string) => {
      const run = await sClientStartTls(proxy.port, ['-ciphersuites', offered]);
      return /Ciphersuite: (\S+)/.exec(run.stderr)?.[1];
    };
    const preset = await proxyWith({});
    expect(await suitesVia(preset)).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256']);
    expect(await sClientSuite(preset, 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256')).toBe(
      'TLS_CHACHA20_POLY1305_SHA256',
    );
    // TLSCipherSuite TLSv1.3 ...: exactly these, in this order, whatever the client prefers.
    const configured = await proxyWith({
      cipherSuites: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384',
    });
    expect(await suitesVia(configured)).toEqual([
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_CHACHA20_POLY1305_SHA256',
    ]);
    expect(await sClientSuite(configured, 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256')).toBe(
      'TLS_CHACHA20_POLY1305_SHA256',
    );
    expect(await sClientSuite(configured, 'TLS_AES_128_GCM_SHA256')).toBeUndefined();
  });

  it('SNI chooses the certificate and, through sniPools, the pool', async () => {
    const proxy = await startTestProxy({
      backends: [backend.url],
      listener: {
        tls: {
          certificates: [
            { cert: ca.server.cert, key: ca.server.key },
            { cert: ca.alt.cert, key: ca.alt.key },
          ],
          sniPools: [{ serverName: 'alt.test', pool: 'alt' }],
        },
      },
      extraPools: [{ name: 'alt', backends: [altBackend.url] }],
    });
    proxies.push(proxy);
    const via = async (name: string) =>
      curl([
        '--ssl-reqd',
        '--cacert',
        ca.caCert,
        '--resolve',
        `${name}:${proxy.port}:127.0.0.1`,
        `ftp://${backend.user}:${backend.password}@${name}:${proxy.port}/whoami.txt`,
      ]);
    expect((await via('localhost')).stdout.toString()).toBe(backend.name);
    const alt = await via('alt.test');
    expect(alt.stderr).toBe('');
    expect(alt.stdout.toString()).toBe(altBackend.name);
    const sClient = await sClientStartTls(proxy.port, ['-servername', 'alt.test']);
    expect(sClient.stderr).toMatch(/Peer certificate: CN ?= ?alt/);
  });
});
