import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { pythonFtp } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/** ProxyDirectoryListPolicy LIST: MLSD served from the backend's LIST, for backends without MLSD. */
describe('directory-list policy', () => {
  let vsftpd: FtpBackend;
  let proftpd: FtpBackend;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    [vsftpd, proftpd] = await Promise.all([
      startFtpBackend('vsftpd', { name: 'list-vsftpd' }),
      startFtpBackend('proftpd', { name: 'list-proftpd' }),
    ]);
    for (const backend of [vsftpd, proftpd]) {
      await writeHomeFile(backend, 'report 2026.txt', 'twelve bytes');
      await writeHomeFile(backend, 'sub/inner.txt', 'x');
    }
    await writeHomeFile(proftpd, 'plain.txt', 'plain');
    // A slink fact cannot carry a blank, so the link target has none.
    await symlink('plain.txt', join(proftpd.homeDir, 'latest'));
    await mkdir(join(vsftpd.homeDir, 'wide'));
    for (let i = 0; i < 5000; i++)
      await writeHomeFile(vsftpd, `wide/file-${String(i).padStart(5, '0')}.dat`, 'x');
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([vsftpd?.stop(), proftpd?.stop()]);
  });

  const proxyFor = async (backend: FtpBackend, poolSettings: Record<string, unknown>) => {
    const proxy = await startTestProxy({ backends: [backend.url], poolSettings });
    proxies.push(proxy);
    return proxy;
  };
  const mlsd = (
    proxy: TestProxy,
    backend: FtpBackend,
    path?: string,
    before: Parameters<typeof pythonFtp>[0] = [],
  ) =>
    pythonFtp([{ op: 'login' }, ...before, { op: 'mlsd', ...(path ? { path } : {}) }], {
      host: '127.0.0.1',
      port: proxy.port,
      user: backend.user,
      password: backend.password,
    });

  it('relays MLSD untouched under the client policy (vsftpd has none)', async () => {
    const proxy = await proxyFor(vsftpd, {});
    const { result } = await mlsd(proxy, vsftpd);
    expect(result.results[1]?.error).toMatch(/^5\d\d/);
  });

  it('gives vsftpd clients MLSD with facts under the LIST policy', async () => {
    const proxy = await proxyFor(vsftpd, { directoryListPolicy: 'LIST' });
    const { result } = await mlsd(proxy, vsftpd);
    const entries = result.results[1]?.entries ?? [];
    const report = entries.find((entry) => entry.name === 'report 2026.txt');
    expect(report?.facts).toMatchObject({ type: 'file', size: '12', perm: expect.stringContaining('r') });
    expect(report?.facts.modify).toMatch(/^\d{14}$/);
    expect(entries.find((entry) => entry.name === 'sub')?.facts.type).toBe('dir');
  });

  it('translates MLSD for a forward pool too (ProxyDirectoryListPolicy applies to both roles)', async () => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [{ name: 'local', from: ['127.0.0.0/8'], forwardEnabled: true }],
      poolSettings: {
        role: 'forward',
        forward: { method: 'user@host' },
        // The destination is on loopback, which the destination policy refuses by default.
        allowDestinationNetworks: ['127.0.0.0/8'],
        directoryListPolicy: 'LIST',
      },
    });
    proxies.push(proxy);
    const { result } = await pythonFtp([{ op: 'login' }, { op: 'mlsd' }], {
      host: '127.0.0.1',
      port: proxy.port,
      user: `${vsftpd.user}@127.0.0.1:${vsftpd.port}`,
      password: vsftpd.password,
    });
    const report = result.results[1]?.entries?.find((entry) => entry.name === 'report 2026.txt');
    expect(report?.facts).toMatchObject({ type: 'file', size: '12' });
  });

  it('honours OPTS MLST and shows the proxy’s facts in FEAT', async () => {
    const proxy = await proxyFor(vsftpd, { directoryListPolicy: 'LIST' });
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(vsftpd.user, vsftpd.password);
    expect(await ftp.command('FEAT')).toMatch(/ MLST modify\*;perm\*;size\*;type\*;/);
    expect(await ftp.command('OPTS MLST size;type;')).toBe('200 MLST OPTS size;type;');
    expect(await ftp.command('OPTS MLST fish cakes;')).toMatch(/^501/);
    ftp.destroy();
    const { result } = await mlsd(proxy, vsftpd, undefined, [{ op: 'raw', command: 'OPTS MLST size;type;' }]);
    const report = result.results[2]?.entries?.find((entry) => entry.name === 'report 2026.txt');
    expect(report?.facts).toEqual({ size: '12', type: 'file' });
  });

  it('streams a 5,000-entry listing', async () => {
    const proxy = await proxyFor(vsftpd, { directoryListPolicy: 'LIST' });
    const { result } = await mlsd(proxy, vsftpd, 'wide');
    const names = (result.results[1]?.entries ?? [])
      .map((entry) => entry.name)
      .filter((name) => name.startsWith('file-'));
    expect(names).toHaveLength(5000);
    expect(new Set(names).size).toBe(5000);
  });

  it('writes symlinks as OS.unix=symlink, or slink:<target> with UseSlink', async () => {
    for (const [useSlink, expected] of [
      [false, 'os.unix=symlink'],
      [true, 'os.unix=slink:plain.txt'],
    ] as const) {
      const proxy = await proxyFor(proftpd, { directoryListPolicy: 'LIST', useSlink });
      const { result } = await mlsd(proxy, proftpd);
      const latest = result.results[1]?.entries?.find((entry) => entry.name === 'latest');
      expect(latest?.facts.type?.toLowerCase()).toBe(expected);
    }
  });
});
