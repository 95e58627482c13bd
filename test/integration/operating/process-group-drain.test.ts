import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, adminUrlFrom } from '../../support/admin-client.js';
import {
  type FtpBackend,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { runCommand } from '../../support/run-command.js';

/**
 * SIGTERM to the whole process group, as systemd's default KillMode=control-group and
 * `kill -TERM -PGID` send it: every worker process gets the signal at the same moment as the
 * primary, and the primary then asks them to drain once more. That must drain, as a SIGTERM to the
 * primary alone does, not cut the transfers that are running (examples/ftpx.service).
 */
describe('ftpx serve --workers 2, SIGTERM to the process group', () => {
  let backend: FtpBackend;
  let dir: string;
  let proxy: ProxyProcess;
  let bigHash: string;
  let port: number;
  const base = 21000 + Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'pgroup-backend' });
    dir = await mkdtemp(join(tmpdir(), 'ftpx-pgroup-'));
    bigHash = await makeRandomFile(join(dir, 'big.bin'), 1024 * 1024);
    await writeHomeFile(backend, 'big.bin', await readFile(join(dir, 'big.bin')));
    port = await freePort();
    const file = join(dir, 'ftpx.yaml');
    await writeFile(
      file,
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'lifecycle: { drainTimeout: 60s }',
        'listeners:',
        '  - address: 127.0.0.1',
        `    port: ${port}`,
        '    pool: main',
        `    passivePorts: { min: ${base}, max: ${base + 9} }`,
        // About 4 s for the megabyte: the signal arrives mid-transfer.
        '    transferRate: [{ commands: [RETR], kibPerSecond: 256 }]',
        'pools:',
        `  - { name: main, backends: [${backend.url}] }`,
        '',
      ].join('\n'),
    );
    proxy = await startProxyProcess({
      args: ['serve', '--config', file, '--workers', '2', '--admin-listen', '127.0.0.1:0'],
      port,
      processGroup: true,
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finishes the running transfer, refuses new sessions, and exits 0 without a worker restart', async () => {
    const admin = adminClient(adminUrlFrom(proxy.stderr()));
    const out = join(dir, 'through-drain.bin');
    const download = curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/big.bin`, '-o', out]);
    let carrier: number | undefined;
    await expect
      .poll(async () => {
        const sessions = await admin.sessions();
        carrier = sessions.find((s) => Number(s.bytesOut) > 0)?.worker as number | undefined;
        return carrier;
      })
      .toBeDefined();
    expect(carrier).not.toBe(proxy.pid);

    proxy.signalGroup('SIGTERM');
    // Draining: a new client is turned away while the transfer goes on.
    await expect
      .poll(
        async () => {
          const late = await RawFtp.open(port).catch(() => undefined);
          const greeting = late ? await late.reply().catch(() => undefined) : 'refused';
          late?.destroy();
          return greeting ?? 'closed';
        },
        { timeout: 10_000 },
      )
      .toMatch(/^421 .*shutting down|refused/);

    const result = await download;
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(await sha256File(out)).toBe(bigHash);
    expect(await proxy.exited()).toBe(0);
    const log = proxy.stderr();
    expect(log).not.toMatch(/worker process exited; restarting it/);
    expect(log).toMatch(/"msg":"worker stopped"/);
    expect(log).toMatch(/"closedAtDeadline":0/);
  });
});

describe('examples/ftpx.service', () => {
  const unit = join(import.meta.dirname, '..', '..', '..', 'examples', 'ftpx.service');

  it('is a unit systemd accepts: stop is SIGTERM to the group, reload is SIGHUP, hardened', async () => {
    const text = await readFile(unit, 'utf8');
    const settings = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (match)
        settings.set(match[1] as string, [...(settings.get(match[1] as string) ?? []), match[2] as string]);
    }
    const one = (key: string) => settings.get(key)?.at(-1);
    expect(one('KillMode')).toBe('control-group');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    // Longer than the default drain (30 s): the drain ends the process, not systemd's SIGKILL.
    expect(Number(/^(\d+)s$/.exec(one('TimeoutStopSec') ?? '')?.[1])).toBeGreaterThan(30);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_BIND_SERVICE');
    expect(one('AmbientCapabilities')).toBe('CAP_NET_BIND_SERVICE');
    expect(one('RestartPreventExitStatus')).toBe('2');
    // systemd's own parser, with the binary swapped for one that exists here.
    const scratch = await mkdtemp(join(tmpdir(), 'ftpx-unit-'));
    try {
      const copy = join(scratch, 'ftpx.service');
      await writeFile(copy, text.replaceAll('/usr/bin/ftpx', '/bin/true'));
      const verify = await runCommand('systemd-analyze', ['verify', copy]);
      expect(verify.stderr.toString()).toBe('');
      expect(verify.code).toBe(0);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
