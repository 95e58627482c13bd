import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { cliPath, type ProxyProcess, startProxyProcess } from '../support/proxy-process.js';

/** The built CLI, run as a user runs it (npm run build comes first in the test command). */
describe('ftpx CLI', () => {
  let backend: FtpBackend;
  let dir: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'cli-backend' });
    await writeHomeFile(backend, 'readme.txt', 'served through ftpx serve --proftpd-conf\n');
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cli-test-'));
  });

  afterAll(async () => {
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('serves the mod_proxy documentation’s reverse proxy example from a proftpd.conf', async () => {
    const port = await freePort();
    const conf = join(dir, 'proftpd.conf');
    // The "Reverse Proxy Configuration" example of the mod_proxy doc, addresses adapted.
    await writeFile(
      conf,
      [
        'ServerType standalone',
        `Port ${port}`,
        'DefaultAddress 127.0.0.1',
        'User nobody',
        '<IfModule mod_proxy.c>',
        '  ProxyEngine on',
        `  ProxyLog ${join(dir, 'proxy.log')}`,
        `  ProxyTables ${join(dir, 'tables')}`,
        '',
        '  ProxyRole reverse',
        '  ProxyReverseConnectPolicy RoundRobin',
        `  ProxyReverseServers ${backend.url}`,
        '  ProxyTLSEngine off',
        '</IfModule>',
        '',
      ].join('\n'),
    );
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxyProcess({ args: ['serve', '--proftpd-conf', conf], port });
      expect(proxy.stderr()).toMatch(/warning: .*proftpd\.conf:1: ServerType/);
      const body = await curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/readme.txt`]);
      expect(body.stdout.toString()).toBe('served through ftpx serve --proftpd-conf\n');
    } finally {
      await proxy?.stop();
    }
  });

  it('check-config accepts a valid YAML config', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(
      file,
      `listeners:\n  - { port: 2121, pool: main }\npools:\n  - { name: main, backends: [ftp://127.0.0.1:21] }\n`,
    );
    const result = run('check-config', file);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/OK \(1 listener/);
  });

  it('check-config reports every error with file, line and key, and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'listeners:',
        '  - port: "twenty-one"',
        '    pool: nowhere',
        'pools:',
        '  - name: main',
        '    backends: [http://x]',
        'colour: blue',
        '',
      ].join('\n'),
    );
    const result = run('check-config', file);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${file}:2: listeners[0].port`);
    expect(result.stderr).toContain(`${file}:6: pools[0].backends[0]`);
    expect(result.stderr).toContain(`${file}:7: colour`);
  });

  it('names the file and line of an unknown proftpd.conf directive, and exits 2', async () => {
    const file = join(dir, 'typo.conf');
    await writeFile(file, ['ProxyEngine on', 'ProxyReverseServer ftp://127.0.0.1:21', ''].join('\n'));
    const result = run('serve', '--proftpd-conf', file);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${file}:2: ProxyReverseServer`);
    expect(result.stderr).toMatch(/ProxyReverseServers/);
  });

  it('explains a bad command line and exits 2', () => {
    const result = run('serve');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--config FILE or --proftpd-conf FILE/);
    expect(run('frobnicate').status).toBe(2);
  });
});
