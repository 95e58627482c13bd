import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, makeRandomFile, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

describe('frontend timeouts, login attempts and asynchronous backend replies', () => {
  let backend: FtpBackend;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'timeouts' });
    await writeHomeFile(backend, 'hello.txt', 'hello\n');
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
  });

  const proxyWith = async (listener: Record<string, unknown>, backends = [backend.url]) => {
    const proxy = await startTestProxy({ backends, listener });
    proxies.push(proxy);
    return proxy;
  };

  /** Reads replies until the connection closes; returns the last one and how long it took. */
  async function waitForClose(ftp: RawFtp): Promise<{ last: string | undefined; ms: number }> {
    const started = Date.now();
    let last: string | undefined;
    for (;;) {
      const reply = await ftp.reply(15_000).catch(() => undefined);
      if (reply === undefined) break;
      last = reply;
    }
    expect(await ftp.closed()).toBe(true);
    return { last, ms: Date.now() - started };
  }

  it('TimeoutLogin closes a session that never logs in', async () => {
    const proxy = await proxyWith({ timeouts: { login: '800ms' } });
    const ftp = await RawFtp.open(proxy.port);
    expect(await ftp.reply()).toMatch(/^220/);
    const { last, ms } = await waitForClose(ftp);
    expect(last).toBe('421 Login timeout (1 second): closing control connection');
    expect(ms).toBeLessThan(3000);
  });

  it('TimeoutIdle closes a logged-in session that sends nothing', async () => {
    const proxy = await proxyWith({ timeouts: { idle: '800ms' } });
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(backend.user, backend.password);
    const { last } = await waitForClose(ftp);
    expect(last).toBe('421 Idle timeout (1 seconds): closing control connection');
  });

  it('TimeoutNoTransfer closes a session that keeps talking but never transfers', async () => {
    const proxy = await proxyWith({ timeouts: { noTransfer: '1s', idle: '10s' } });
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(backend.user, backend.password);
    let last: string | undefined;
    for (let i = 0; i < 20; i++) {
      last = await ftp.command('NOOP').catch(() => undefined);
      if (!last?.startsWith('200')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(last).toBe('421 No transfer timeout (1 seconds): closing control connection');
    expect(await ftp.closed()).toBe(true);
  });

  it('TimeoutStalled ends a transfer that moves no bytes', async () => {
    const proxy = await proxyWith({ timeouts: { stalled: '800ms' } });
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(backend.user, backend.password);
    const epsv = await ftp.command('EPSV');
    const port = Number(/\|\|\|(\d+)\|/.exec(epsv ?? '')?.[1]);
    const data = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => data.once('connect', resolve));
    expect(await ftp.command('STOR stalled.bin')).toMatch(/^150/);
    // The client opened the upload and sends nothing.
    const { last, ms } = await waitForClose(ftp);
    expect(last).toBe('421 Data transfer stall timeout: 1 second');
    expect(ms).toBeLessThan(3000);
    data.destroy();
  });

  it('MaxLoginAttempts closes the connection after the last refused login', async () => {
    const proxy = await proxyWith({ maxLoginAttempts: 2 });
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    await ftp.command(`USER ${backend.user}`);
    expect(await ftp.command('PASS wrong-1')).toMatch(/^530/);
    await ftp.command(`USER ${backend.user}`);
    expect(await ftp.command('PASS wrong-2')).toMatch(/^530/);
    expect(await ftp.closed()).toBe(true);
    expect(proxy.logs.some((line) => line.msg === 'maximum login attempts reached; closing')).toBe(true);
  });

  it('TransferRate paces downloads after the free bytes, and leaves other commands alone', async () => {
    await makeRandomFile(await writeHomeFile(backend, 'paced.bin', ''), 1536 * 1024);
    const proxy = await startTestProxy({
      backends: [backend.url],
      listener: { transferRate: [{ commands: ['RETR'], kibPerSecond: 512, freeBytes: 512 * 1024 }] },
    });
    proxies.push(proxy);
    const base = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    let started = Date.now();
    const download = await curl([`${base}/paced.bin`, '-o', '/dev/null']);
    expect(download.code).toBe(0);
    // 1 MiB beyond the free 512 KiB at 512 KiB/s: two seconds at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    started = Date.now();
    expect((await curl(['-T', join(backend.homeDir, 'paced.bin'), `${base}/unpaced.bin`])).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it('TransferRate STOR paces uploads, and leaves downloads alone', async () => {
    const source = await writeHomeFile(backend, 'paced-up.bin', '');
    await makeRandomFile(source, 1536 * 1024);
    const proxy = await startTestProxy({
      backends: [backend.url],
      listener: { transferRate: [{ commands: ['STOR'], kibPerSecond: 512, freeBytes: 512 * 1024 }] },
    });
    proxies.push(proxy);
    const base = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    let started = Date.now();
    expect((await curl(['-T', source, `${base}/paced-up-copy.bin`])).code).toBe(0);
    // 1 MiB beyond the free 512 KiB at 512 KiB/s: two seconds at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await readFile(join(backend.homeDir, 'paced-up-copy.bin'))).toEqual(await readFile(source));
    started = Date.now();
    expect((await curl([`${base}/paced-up.bin`, '-o', '/dev/null'])).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it('relays a backend’s own idle-timeout 421 as soon as it arrives', async () => {
    const impatient = await startFtpBackend('proftpd', { name: 'impatient', idleTimeoutSeconds: 1 });
    try {
      const proxy = await proxyWith({}, [impatient.url]);
      const ftp = await RawFtp.open(proxy.port);
      await ftp.login(impatient.user, impatient.password);
      const started = Date.now();
      const { last } = await waitForClose(ftp);
      expect(last).toMatch(/^421 Idle timeout \(1 seconds\)/);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await impatient.stop();
    }
  });
});
