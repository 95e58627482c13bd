import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { type ModProxy, startModProxy } from '../support/proftpd-mod-proxy.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

/** The benchmark's reference: Debian's mod_proxy must work here, and serve what ftpx serves. */
describe('ProFTPD mod_proxy as the reference', () => {
  let backend: FtpBackend;
  let modProxy: ModProxy;
  let ftpx: TestProxy;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'reference-backend' });
    await writeHomeFile(backend, 'hello.txt', 'same bytes either way\n');
    modProxy = await startModProxy(backend.url);
    ftpx = await startTestProxy({ backends: [backend.url] });
  });

  afterAll(async () => {
    await ftpx?.close();
    await modProxy?.stop();
    await backend?.stop();
  });

  it('serves the same download and listing as ftpx', async () => {
    const url = (port: number, path: string) =>
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/${path}`;
    const viaModProxy = await curl([url(modProxy.port, 'hello.txt')]);
    expect(viaModProxy.stderr).toBe('');
    expect(viaModProxy.stdout.toString()).toBe('same bytes either way\n');
    expect((await curl([url(ftpx.port, 'hello.txt')])).stdout.equals(viaModProxy.stdout)).toBe(true);
    const listings = await Promise.all(
      [modProxy.port, ftpx.port].map(async (port) =>
        (await curl(['--list-only', url(port, '')])).stdout.toString(),
      ),
    );
    expect(listings[0]).toBe(listings[1]);
  });
});
