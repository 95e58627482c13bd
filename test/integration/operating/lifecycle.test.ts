import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { cliPath, startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

/** The serving process's life: SIGTERM drains, SIGHUP reloads, --check validates (issue 10). */
describe('ftpx serve lifecycle', () => {
  let a: FtpBackend;
  let b: FtpBackend;
  let dir: string;
  let bigHash: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startFtpBackend('proftpd', { name: 'life-a' }),
      startFtpBackend('proftpd', { name: 'life-b' }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-lifecycle-'));
    const big = join(dir, 'big.bin');
    bigHash = await makeRandomFile(big, 1024 * 1024);
    const { readFile } = await import('node:fs/promises');
    await writeHomeFile(a, 'big.bin', await readFile(big));
    await writeHomeFile(b, 'hello.txt', 'from b\n');
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const config = (port: number, backends: string[], extra: string[] = []) =>
    [
      `dataDir: ${join(dir, `data-${port}`)}`,
      'log: { level: info }',
      'lifecycle: { drainTimeout: 3s }',
      'listeners:',
      `  - address: 127.0.0.1`,
      `    port: ${port}`,
      '    pool: main',
      '    transferRate: [{ commands: [RETR], kibPerSecond: 512 }]',
      'pools:',
      '  - name: main',
      `    backends: [${backends.join(', ')}]`,
      ...extra,
      '',
    ].join('\n');

  it('SIGTERM: new clients get 421, a running transfer completes, an idle session gets 421 at the deadline, exit 0', async () => {
    const port = await freePort();
    const file = join(dir, `drain-${port}.yaml`);
    await writeFile(file, config(port, [a.url]));
    const proxy = await startProxyProcess({ args: ['serve', '--config', file], port });
    let idle: RawFtp | undefined;
    try {
      idle = await RawFtp.open(port);
      await idle.login(a.user, a.password);
      const out = join(dir, 'drained.bin');
      // 1 MiB at 512 KiB/s: about two seconds, within the three-second drain deadline.
      const download = curl([`ftp://${a.user}:${a.password}@127.0.0.1:${port}/big.bin`, '-o', out]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const signalledAt = Date.now();
      proxy.signal('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const late = await RawFtp.open(port);
      expect(await late.reply()).toMatch(/^421 .*shutting down/);
      expect(await late.closed()).toBe(true);
      const result = await download;
      expect(result.code).toBe(0);
      expect(await sha256File(out)).toBe(bigHash);
      // The idle session hears nothing until the deadline, then 421.
      const goodbye = await idle.reply(10_000);
      expect(goodbye).toMatch(/^421 .*shutting down/);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2800);
      expect(await idle.closed()).toBe(true);
      expect(await proxy.exited()).toBe(0);
      expect(proxy.stderr()).toMatch(
        /"sessions":1,"msg":"drain deadline reached: closing the remaining sessions"/,
      );
    } finally {
      idle?.destroy();
      await proxy.stop();
    }
  });

  it('SIGHUP applies a changed backend list to new sessions and keeps running ones; a broken config is rejected', async () => {
    const port = await freePort();
    const file = join(dir, `reload-${port}.yaml`);
    await writeFile(file, config(port, [a.url]));
    const proxy = await startProxyProcess({ args: ['serve', '--config', file], port });
    let old: RawFtp | undefined;
    try {
      old = await RawFtp.open(port);
      await old.login(a.user, a.password);
      await writeFile(file, config(port, [b.url]));
      proxy.signal('SIGHUP');
      await waitFor(() => proxy.stderr().includes('"msg":"configuration reloaded"'));
      const fromB = await curl([`ftp://${b.user}:${b.password}@127.0.0.1:${port}/hello.txt`]);
      expect(fromB.stdout.toString()).toBe('from b\n');
      // The session started before the reload still talks to backend a.
      expect(await old.command('SIZE big.bin')).toBe('213 1048576');

      await writeFile(file, `${config(port, [a.url]).replace('pool: main', 'pool: mian')}`);
      proxy.signal('SIGHUP');
      await waitFor(() => proxy.stderr().includes('configuration reload rejected'));
      const rejected = proxy
        .stderr()
        .split('\n')
        .find((line) => line.includes('configuration reload rejected'));
      expect(rejected).toContain(`${file}:7`);
      expect(rejected).toContain('no pool named \\"mian\\"');
      const stillB = await curl([`ftp://${b.user}:${b.password}@127.0.0.1:${port}/hello.txt`]);
      expect(stillB.stdout.toString()).toBe('from b\n');
      expect(await old.command('NOOP')).toMatch(/^200/);
    } finally {
      old?.destroy();
      await proxy.stop();
    }
  });

  it('serve --check says what check-config says, and starts nothing', async () => {
    const port = await freePort();
    const good = join(dir, 'good.yaml');
    await writeFile(good, config(port, [a.url]));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });
    const checked = run('serve', '--check', '--config', good);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toBe(run('check-config', good).stdout);
    expect(checked.stdout).toMatch(/good\.yaml: OK \(1 listener\(s\), 1 pool\(s\)/);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, config(port, ['file:/nonexistent/backends.json'], ['    connectPolicy: Sticky']));
    const refused = run('serve', '--check', '--config', bad);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(run('check-config', bad).stderr);
    expect(refused.stderr).toMatch(/bad\.yaml:12: pools\[0\]\.connectPolicy: Invalid option/);

    // Valid YAML naming a backend list that does not exist: refused as starting would refuse it.
    const missing = join(dir, 'missing-list.yaml');
    await writeFile(missing, config(port, ['file:/nonexistent/backends.json']));
    const noList = run('serve', '--check', '--config', missing);
    expect(noList.status).toBe(2);
    expect(noList.stderr).toBe(run('check-config', missing).stderr);
    expect(noList.stderr).toContain('/nonexistent/backends.json');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
