import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

describe('<Limit> for commands, before anything reaches the backend', () => {
  let backend: FtpBackend;
  const proxies: TestProxy[] = [];
  const upload = join(tmpdir(), `ftpx-limits-${process.pid}.txt`);

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'limits' });
    await writeHomeFile(backend, 'hello.txt', 'hello\n');
    await writeFile(upload, 'new file\n');
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
  });

  const proxyWith = async (limits: Record<string, unknown>[]) => {
    const proxy = await startTestProxy({ backends: [backend.url], listener: { limits } });
    proxies.push(proxy);
    return proxy;
  };
  const url = (proxy: TestProxy, path: string) =>
    `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/${path}`;

  it('DenyAll on WRITE refuses uploads and deletes with 550, and reads go on', async () => {
    const proxy = await proxyWith([{ commands: ['WRITE'], otherwise: 'deny' }]);
    const stored = await curl(['-T', upload, url(proxy, 'denied.txt')]);
    expect(stored.code).not.toBe(0);
    expect(stored.stderr).toMatch(/550/);
    expect((await curl([url(proxy, 'hello.txt')])).stdout.toString()).toBe('hello\n');
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(backend.user, backend.password);
    expect(await ftp.command('DELE hello.txt')).toBe('550 DELE: Operation not permitted');
    expect(await ftp.command('MKD newdir')).toBe('550 MKD: Operation not permitted');
    ftp.destroy();
  });

  it('AllowUser with DenyAll lets only that user write', async () => {
    const proxy = await proxyWith([{ commands: ['STOR'], allowUsers: [backend.user], otherwise: 'deny' }]);
    expect((await curl(['-T', upload, url(proxy, 'allowed.txt')])).code).toBe(0);
    const other = await proxyWith([{ commands: ['STOR'], allowUsers: ['somebody-else'], otherwise: 'deny' }]);
    expect((await curl(['-T', upload, url(other, 'other.txt')])).stderr).toMatch(/550/);
  });

  it('Deny from a network refuses that client only; parameter commands get 501', async () => {
    const proxy = await proxyWith([
      { commands: ['READ'], denyFrom: ['127.0.0.5/32'] },
      { commands: ['TYPE'], denyFrom: ['127.0.0.5/32'] },
    ]);
    const far = await RawFtp.open(proxy.port, '127.0.0.1', '127.0.0.5');
    await far.reply();
    await far.command(`USER ${backend.user}`);
    await far.command(`PASS ${backend.password}`);
    expect(await far.command('TYPE I')).toBe('501 TYPE: Operation not permitted');
    expect(await far.command('RETR hello.txt')).toBe('550 RETR: Operation not permitted');
    far.destroy();
    expect((await curl([url(proxy, 'hello.txt')])).stdout.toString()).toBe('hello\n');
    expect(proxy.logs.filter((line) => line.msg === 'command refused by a limit')).toHaveLength(2);
  });
});
