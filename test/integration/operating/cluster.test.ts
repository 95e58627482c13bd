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

/** `ftpx serve --workers 2`: node:cluster, a worker killed under load, restarts, port slices. */
describe('ftpx serve --workers 2', () => {
  let backend: FtpBackend;
  let other: FtpBackend;
  let file: string;
  let configFor: (backendUrl: string) => string;
  let dir: string;
  let proxy: ProxyProcess;
  let admin: ReturnType<typeof adminClient>;
  let bigHash: string;
  // Below the kernel's ephemeral range (32768 and up), where client sockets could hold a port.
  const base = 21000 + Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    [backend, other] = await Promise.all([
      startFtpBackend('proftpd', { name: 'cluster-backend' }),
      startFtpBackend('proftpd', { name: 'cluster-other' }),
    ]);
    await writeHomeFile(other, 'other.txt', 'from the other backend\n');
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cluster-'));
    bigHash = await makeRandomFile(join(dir, 'big.bin'), 1024 * 1024);
    await writeHomeFile(backend, 'big.bin', await readFile(join(dir, 'big.bin')));
    await writeHomeFile(backend, 'small.txt', 'small\n');
    const port = await freePort();
    file = join(dir, 'ftpx.yaml');
    configFor = (backendUrl) =>
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'listeners:',
        `  - address: 127.0.0.1`,
        `    port: ${port}`,
        '    pool: main',
        `    passivePorts: { min: ${base}, max: ${base + 9} }`,
        '    transferRate: [{ commands: [RETR], kibPerSecond: 256 }]',
        'pools:',
        `  - { name: main, backends: [${backendUrl}] }`,
        '',
      ].join('\n');
    await writeFile(file, configFor(backend.url));
    proxy = await startProxyProcess({
      args: ['serve', '--config', file, '--workers', '2', '--admin-listen', '127.0.0.1:0'],
      port,
    });
    admin = adminClient(adminUrlFrom(proxy.stderr()));
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([backend?.stop(), other?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts its workers with the memory settings (young generation capped, two malloc arenas)', async () => {
    const children = (await readFile(`/proc/${proxy.pid}/task/${proxy.pid}/children`, 'utf8'))
      .split(' ')
      .filter(Boolean);
    expect(children).toHaveLength(2);
    for (const pid of children) {
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      const env = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      expect(argv).toContain('--max-semi-space-size=8');
      expect(env).toContain(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '2'}`);
    }
    // The primary's own settings are V8 flags set at run time: its command line stays as started.
    expect((await readFile(`/proc/${proxy.pid}/cmdline`, 'utf8')).split('\0')).not.toContain(
      '--max-semi-space-size=8',
    );
  });

  it('keeps the other process’s sessions when one worker process is killed, restarts it, reloads on SIGHUP', async () => {
    expect(proxy.stderr()).toMatch(/\(pool main, 2 worker processes\)/);
    const url = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    // Logged-in sessions until both worker processes own some (connections are dealt round robin).
    const raw: RawFtp[] = [];
    let sessions: Record<string, unknown>[] = [];
    while (new Set(sessions.map((s) => s.worker)).size < 2 && raw.length < 8) {
      const session = await RawFtp.open(proxy.port);
      await session.login(backend.user, backend.password);
      raw.push(session);
      sessions = await admin.sessions();
    }
    const pids = [...new Set(sessions.map((s) => Number(s.worker)))];
    const ownerOf = (session: RawFtp) =>
      Number(sessions.find((s) => s.client === `127.0.0.1:${session.localPort}`)?.worker);
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(proxy.pid);

    // /metrics in the primary sums both workers' samples (prom-client's AggregatorRegistry over IPC),
    // with the processes' default metrics beside them.
    const both = await admin.metrics();
    const reverse = 'pool="main",protocol="ftp",role="reverse"';
    expect(both.get(`ftpx_sessions_active{${reverse}}`)).toBe(raw.length);
    expect(both.get('ftpx_logins_total{pool="main",protocol="ftp",result="ok",role="reverse"}')).toBe(
      raw.length,
    );
    expect(both.get('ftpx_worker_processes')).toBe(2);
    expect(both.get('process_resident_memory_bytes')).toBeGreaterThan(0);

    // Passive ports: each process hands out its own slice of the range only.
    const byPid = new Map<number, number[]>();
    for (const session of raw) {
      const reply = await session.command('EPSV');
      const port = Number(/\|\|\|(\d+)\|/.exec(reply ?? '')?.[1]);
      expect(port).toBeGreaterThanOrEqual(base);
      expect(port).toBeLessThanOrEqual(base + 9);
      const pid = ownerOf(session);
      byPid.set(pid, [...(byPid.get(pid) ?? []), port]);
    }
    const halves = [...byPid.values()].map(
      (ports) => new Set(ports.map((port) => (port < base + 5 ? 0 : 1))),
    );
    expect(halves.every((half) => half.size === 1)).toBe(true);
    expect(new Set(halves.flatMap((half) => [...half])).size).toBe(2);

    // A 4-second download runs; the process that does not carry it is killed.
    const out = join(dir, 'through-crash.bin');
    const download = curl([`${url}/big.bin`, '-o', out]);
    let carrier: number | undefined;
    await expect
      .poll(async () => {
        const now = await admin.sessions();
        carrier = now.find((s) => Number(s.bytesOut) > 0)?.worker as number | undefined;
        return carrier;
      })
      .toBeDefined();
    const victim = pids.find((pid) => pid !== carrier) as number;
    process.kill(victim, 'SIGKILL');
    const survivors = raw.filter((session) => ownerOf(session) !== victim);
    const orphans = raw.filter((session) => ownerOf(session) === victim);
    expect(orphans.length).toBeGreaterThan(0);
    expect(survivors.length).toBeGreaterThan(0);
    for (const orphan of orphans) expect(await orphan.closed(5000)).toBe(true);
    for (const survivor of survivors) expect(await survivor.command('NOOP')).toMatch(/^200/);
    const result = await download;
    expect(result.code).toBe(0);
    expect(await sha256File(out)).toBe(bigHash);

    // The primary starts a new process in the dead one's place; new sessions are served.
    await expect.poll(async () => (await admin.call('/readyz')).status, { timeout: 15_000 }).toBe(200);
    const metrics = await admin.metrics();
    expect(metrics.get('ftpx_worker_restarts_total')).toBe(1);
    expect(metrics.get('ftpx_worker_processes')).toBe(2);
    expect(proxy.stderr()).toMatch(/"signal":"SIGKILL".*"msg":"worker process exited; restarting it"/);
    for (let i = 0; i < 4; i++) {
      const got = await curl([`${url}/small.txt`]);
      expect(got.stdout.toString()).toBe('small\n');
    }
    for (const survivor of survivors) expect(await survivor.command('NOOP')).toMatch(/^200/);

    // SIGHUP to the primary: every worker (the restarted one too) takes the new backend list for new
    // sessions; the sessions already running stay on the old backend.
    await writeFile(file, configFor(other.url));
    proxy.signal('SIGHUP');
    await expect.poll(() => proxy.stderr().includes('"workers":2,')).toBe(true);
    for (let i = 0; i < 4; i++) {
      const got = await curl([`ftp://${other.user}:${other.password}@127.0.0.1:${proxy.port}/other.txt`]);
      expect(got.stdout.toString()).toBe('from the other backend\n');
    }
    for (const survivor of survivors) expect(await survivor.command('SIZE big.bin')).toBe('213 1048576');
    // A broken file is rejected by the primary; nothing changes.
    await writeFile(file, configFor(other.url).replace('pools:', 'poolz:'));
    proxy.signal('SIGHUP');
    await expect.poll(() => proxy.stderr().includes('configuration reload rejected')).toBe(true);
    expect(proxy.stderr()).toMatch(
      /ftpx\.yaml:\d+: poolz: unknown key.*"msg":"configuration reload rejected/,
    );
    const still = await curl([`ftp://${other.user}:${other.password}@127.0.0.1:${proxy.port}/other.txt`]);
    expect(still.stdout.toString()).toBe('from the other backend\n');
    for (const session of raw) session.destroy();

    // SIGTERM in the primary drains every worker; the whole cluster exits 0.
    proxy.signal('SIGTERM');
    expect(await proxy.exited()).toBe(0);
  });
});
