import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

describe('HOST (RFC 7151)', () => {
  let sales: FtpBackend;
  let support: FtpBackend;
  let proxy: TestProxy;

  beforeAll(async () => {
    // ProFTPD lists HOST in its FEAT; pure-ftpd does not.
    [sales, support] = await Promise.all([
      startFtpBackend('proftpd', { name: 'host-sales' }),
      startFtpBackend('pure-ftpd', { name: 'host-support' }),
    ]);
    for (const backend of [sales, support]) await writeHomeFile(backend, 'whoami.txt', backend.name);
    proxy = await startTestProxy({
      backends: [sales.url],
      pool: 'sales',
      poolSettings: { hostNames: ['sales.example.com'] },
      listener: { hostPools: ['support'] },
      extraPools: [{ name: 'support', backends: [support.url], hostNames: ['support.example.com'] }],
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([sales?.stop(), support?.stop()]);
  });

  it('selects the pool before USER and tells a backend that supports HOST its own name', async () => {
    const ftp = await RawFtp.open(proxy.port);
    expect(await ftp.reply()).toMatch(/host-sales/);
    // The listener's own pool: ProFTPD lists HOST, so it gets HOST 127.0.0.1 and answers itself.
    // ProFTPD's own reply (the proxy's local one ends with a period, as the pure-ftpd case shows).
    expect(await ftp.command('HOST sales.example.com')).toBe('220 HOST command successful');
    await ftp.command(`USER ${sales.user}`);
    expect(await ftp.command(`PASS ${sales.password}`)).toMatch(/^230/);
    ftp.destroy();
  });

  it('switches to another pool of the listener, whose backend then serves the session', async () => {
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    // As ProFTPD greets again for a name-based virtual host: the new backend's banner.
    const greeting = await ftp.command('HOST SUPPORT.example.com');
    expect(greeting).toMatch(/^220[- ]/);
    expect(greeting).toContain(support.name);
    await ftp.command(`USER ${support.user}`);
    expect(await ftp.command(`PASS ${support.password}`)).toMatch(/^230/);
    expect(await ftp.command('SIZE whoami.txt')).toBe(`213 ${support.name.length}`);
    ftp.destroy();
    expect(proxy.logs.some((line) => line.msg === 'HOST switches pool' && line.to === 'support')).toBe(true);
  });

  it('refuses an unknown host and HOST after USER', async () => {
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    expect(await ftp.command('HOST elsewhere.example.com')).toMatch(/^504/);
    await ftp.command(`USER ${sales.user}`);
    expect(await ftp.command('HOST support.example.com')).toMatch(/^503/);
    ftp.destroy();
  });
});
