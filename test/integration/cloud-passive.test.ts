import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, lftp } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * The listener settings the CDK app gives edge tasks behind the NLB (infra/lib/worker-config.ts):
 * EPSV refused, so that clients use PASV, whose 227 reply carries the task's own address
 * (masqueradeAddress). Real clients must still transfer, falling back by themselves.
 */
const HELLO = 'passive through the cloud\n';

describe('a listener configured as behind the NLB (epsv: false, masqueradeAddress)', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'cloud-passive' });
    await writeHomeFile(backend, 'hello.txt', HELLO);
    proxy = await startTestProxy({
      backends: [backend.url],
      listener: { epsv: false, masqueradeAddress: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
  });

  const url = () => `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/hello.txt`;

  it('refuses EPSV with 502 and answers PASV with the masquerade address', async () => {
    const ftp = await RawFtp.open(proxy.port);
    try {
      await ftp.login(backend.user, backend.password);
      expect(await ftp.command('EPSV')).toMatch(/^502 /);
      expect(await ftp.command('EPSV ALL')).toMatch(/^502 /);
      expect(await ftp.command('PASV')).toMatch(/^227 .*\(127,0,0,1,\d+,\d+\)/);
    } finally {
      await ftp.command('QUIT');
      expect(await ftp.closed()).toBe(true);
    }
  });

  it('curl tries EPSV, falls back to PASV by itself, and downloads', async () => {
    const result = await curl(['-v', url()]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(HELLO);
    expect(result.stderr).toMatch(/EPSV/);
    expect(result.stderr).toMatch(/PASV/);
    const ready = proxy.logs.filter((line) => line.msg === 'backend data ready').at(-1);
    expect(ready?.client).toBe('PASV');
  });

  it('lftp downloads', async () => {
    const result = await lftp(
      `open -u ${backend.user},${backend.password} ftp://127.0.0.1:${proxy.port}; cat hello.txt`,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(HELLO);
  });
});
