import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { startHaproxyRelay } from '../support/haproxy.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const HELLO = 'behind a load balancer\n';

/** Downloads hello.txt over a session opened from `localAddress`, passive, data connection from there too. */
async function downloadFrom(port: number, backend: FtpBackend, localAddress: string): Promise<string> {
  const ftp = await RawFtp.open(port, '127.0.0.1', localAddress);
  await ftp.login(backend.user, backend.password);
  const epsv = await ftp.command('EPSV');
  const dataPort = Number(/\|\|\|(\d+)\|/.exec(epsv ?? '')?.[1]);
  const data = connect({ host: '127.0.0.1', port: dataPort, localAddress });
  const chunks: Buffer[] = [];
  data.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise((resolve) => data.once('close', resolve));
  expect(await ftp.command('RETR hello.txt')).toMatch(/^150/);
  expect(await ftp.reply()).toMatch(/^226/);
  await closed;
  ftp.destroy();
  return Buffer.concat(chunks).toString();
}

describe('PROXY protocol', () => {
  let backend: FtpBackend;
  const proxies: TestProxy[] = [];
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'pp-backend' });
    await writeHomeFile(backend, 'hello.txt', HELLO);
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
  });

  const proxyWith = async (options: Partial<Parameters<typeof startTestProxy>[0]>) => {
    const proxy = await startTestProxy({ backends: [backend.url], ...options });
    proxies.push(proxy);
    return proxy;
  };

  for (const version of ['v1', 'v2'] as const) {
    it(`takes the client address from a trusted load balancer's ${version} header`, async () => {
      const proxy = await proxyWith({ listener: { proxyProtocol: { trustedNetworks: ['127.0.0.1/32'] } } });
      const balancer = await startHaproxyRelay({
        target: { host: '127.0.0.1', port: proxy.port },
        sendProxy: version,
      });
      stops.push(balancer.stop);
      // The client comes from 127.0.0.7; the proxy sees haproxy (127.0.0.1) on the socket.
      expect(await downloadFrom(balancer.port, backend, '127.0.0.7')).toBe(HELLO);
      const started = proxy.logs.find(
        (line) => line.msg === 'session started' && String(line.client).startsWith('127.0.0.7:'),
      );
      expect(started?.via).toMatch(/^127\.0\.0\.1:/);
      // The real client's address drives the data-channel checks: PORT to the balancer's address is foreign.
      const ftp = await RawFtp.open(balancer.port, '127.0.0.1', '127.0.0.7');
      await ftp.login(backend.user, backend.password);
      expect(await ftp.command('PORT 127,0,0,1,200,1')).toBe('500 Illegal PORT command');
      expect(await ftp.command('PORT 127,0,0,7,200,1')).toMatch(/^200/);
      ftp.destroy();
    });
  }

  it('closes a connection whose PROXY header comes from an untrusted source, and serves others', async () => {
    const proxy = await proxyWith({ listener: { proxyProtocol: { trustedNetworks: ['127.0.0.9/32'] } } });
    const forger = await RawFtp.open(proxy.port);
    expect(await forger.reply()).toMatch(/^220/);
    forger.write('PROXY TCP4 203.0.113.5 127.0.0.1 40000 21\r\n');
    expect(await forger.closed()).toBe(true);
    expect(
      proxy.logs.some((line) => String(line.msg).startsWith('PROXY protocol header from a source not in')),
    ).toBe(true);
    expect(await downloadFrom(proxy.port, backend, '127.0.0.1')).toBe(HELLO);
  });

  it('closes a trusted connection without a valid header, and only that one', async () => {
    const proxy = await proxyWith({
      listener: { proxyProtocol: { trustedNetworks: ['127.0.0.1/32'], timeout: '500ms' } },
    });
    const garbage = connect({ host: '127.0.0.1', port: proxy.port });
    garbage.write('PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\n');
    const silent = connect({ host: '127.0.0.1', port: proxy.port });
    const closed = (socket: typeof garbage) => new Promise((resolve) => socket.once('close', resolve));
    await Promise.all([closed(garbage), closed(silent)]);
    const refusals = proxy.logs.filter(
      (line) => line.msg === 'refused connection: no valid PROXY protocol header',
    );
    expect(refusals.map((line) => String(line.reason).split(':')[0]).sort()).toEqual(['invalid', 'timeout']);
    // A direct client from another (untrusted) address is served normally.
    expect(await downloadFrom(proxy.port, backend, '127.0.0.3')).toBe(HELLO);
  });

  for (const version of ['v1', 'v2', 'v2-tlvs'] as const) {
    it(`tells the backend the real client with a ${version} header`, async () => {
      const relay = await startHaproxyRelay({
        target: { host: '127.0.0.1', port: backend.port },
        acceptProxy: true,
      });
      stops.push(relay.stop);
      const proxy = await proxyWith({
        backends: [`ftp://127.0.0.1:${relay.port}`],
        poolSettings: { sendProxyProtocol: version },
      });
      expect(await downloadFrom(proxy.port, backend, '127.0.0.8')).toBe(HELLO);
      const deadline = Date.now() + 5000;
      let log: string[] = [];
      while (Date.now() < deadline) {
        log = await relay.connectionLog();
        if (log.some((line) => line.startsWith('client=127.0.0.8:'))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(log.some((line) => line.startsWith('client=127.0.0.8:'))).toBe(true);
    });
  }
});
