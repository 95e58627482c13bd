import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingRelay, startCountingRelay } from '../support/counting-relay.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { cliPath } from '../support/proxy-process.js';
import { RawFtp } from '../support/raw-ftp.js';

/** The first reply a client from `source` gets, and whether the connection then closed. */
async function firstReply(
  port: number,
  source: string,
): Promise<{ reply: string | undefined; closed: boolean }> {
  const ftp = await RawFtp.open(port, '127.0.0.1', source);
  const reply = await ftp.reply();
  const closed = reply?.startsWith('220') ? false : await ftp.closed();
  ftp.destroy();
  return { reply, closed };
}

/**
 * `ftpx serve --workers 2` (node:cluster hands connections to the workers in turn): the limits are
 * counted in the primary's store for both worker processes, and an autoban made by one worker
 * refuses the client on the other. Real ProFTPD behind a relay counting the backend's connections.
 */
describe('connection limits and bans with --workers 2', () => {
  let dir: string;
  let backend: FtpBackend;
  let relay: CountingRelay;
  let proxy: { port: number; stop(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-limits-workers-'));
    backend = await startFtpBackend('proftpd', { name: 'limits-workers' });
    await writeHomeFile(backend, 'honest.txt', 'honest\n');
    relay = await startCountingRelay(backend);
    const port = await freePort();
    const config = join(dir, 'ftpx.yaml');
    await writeFile(
      config,
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'bans:',
        "  message: 'Banned: %a'",
        '  pollInterval: 500ms',
        '  rules:',
        '    - { event: MaxLoginAttempts, count: 1, window: 1m, duration: 1h }',
        'listeners:',
        `  - { name: main, address: 127.0.0.1, port: ${port}, pool: main, connections: { maxConnectionsPerHost: 3 } }`,
        'pools:',
        '  - name: main',
        `    backends: [ftp://127.0.0.1:${relay.port}]`,
        '',
      ].join('\n'),
    );
    // Two worker processes on a loaded machine may take longer than the shared helper's 15 s to start.
    const child = spawn(process.execPath, [cliPath(), 'serve', '--config', config, '--workers', '2'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ftpx did not start:\n${stderr}`)), 60_000);
      child.stderr?.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        if (stderr.includes(`:${port} (pool main, 2 worker processes)`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`ftpx exited with ${code}:\n${stderr}`)));
    });
    proxy = {
      port,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      },
    };
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop();
    await relay?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const honest = async () => {
    const run = await curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/honest.txt`], {
      timeoutMs: 20_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.toString('utf8')).toBe('honest\n');
  };

  it('MaxConnectionsPerHost holds across both worker processes', async () => {
    const source = '127.0.0.21';
    const held: RawFtp[] = [];
    for (let i = 0; i < 3; i++) {
      const ftp = await RawFtp.open(proxy.port, '127.0.0.1', source);
      expect(await ftp.reply()).toMatch(/^220/);
      held.push(ftp);
    }
    const before = relay.accepted();
    // Two more: whichever worker each lands on, the host already has 3.
    for (let i = 0; i < 2; i++) {
      expect(await firstReply(proxy.port, source)).toEqual({
        reply: '530 Sorry, the maximum number of connections (3) for your host are already connected.',
        closed: true,
      });
    }
    expect(relay.accepted()).toBe(before);
    await honest();
    for (const ftp of held) ftp.destroy();
  });

  it('an autoban made by one worker refuses the client on the other', async () => {
    const source = '127.0.0.22';
    const sprayer = await RawFtp.open(proxy.port, '127.0.0.1', source);
    expect(await sprayer.reply()).toMatch(/^220/);
    for (let i = 0; i < 3; i++) {
      await sprayer.command(`USER ${backend.user}`);
      expect(await sprayer.command('PASS wrong')).toMatch(/^530/);
    }
    expect(await sprayer.closed()).toBe(true);
    // Past one poll, four connections in a row (both workers get some) are all refused.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = relay.accepted();
    for (let i = 0; i < 4; i++) {
      expect(await firstReply(proxy.port, source)).toEqual({ reply: `530 Banned: ${source}`, closed: true });
    }
    expect(relay.accepted()).toBe(before);
    await honest();
  });
});
