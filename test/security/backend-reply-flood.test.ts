import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FloodingBackend, startFloodingBackend } from '../support/flooding-backend.js';
import { freePort } from '../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../support/proxy-process.js';

const MiB = 1024 * 1024;

/** The process's resident set, from /proc (bytes). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kib * 1024;
}

/** User + system CPU time the process used so far, in clock ticks (1/100 s on Linux). */
async function cpuTicksOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure that says what was missing after `ms` (instead of the test's own timeout). */
async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof what === 'string' ? what : what())), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function startProxy(backendPort: number): Promise<{ proxy: ProxyProcess; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-flood-'));
  const port = await freePort();
  const config = join(dir, 'ftpx.yaml');
  await writeFile(
    config,
    [
      `dataDir: ${join(dir, 'data')}`,
      'log: { level: info }',
      'listeners:',
      `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
      'pools:',
      '  - name: main',
      `    backends: [ftp://127.0.0.1:${backendPort}]`,
      '',
    ].join('\n'),
  );
  const proxy = await startProxyProcess({ args: ['serve', '--config', config], port });
  return { proxy, dir };
}

/** Logs in through the proxy, then stops reading: everything after the 230 piles up on our side. */
async function loginAndStopReading(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  socket.setEncoding('latin1');
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let wake = () => {};
  socket.on('data', (chunk: string) => {
    text += chunk;
    wake();
  });
  const seen = async (pattern: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!pattern.test(text)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(text.slice(-200))}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  await seen(/^220 .*\r\n/m);
  socket.write('USER flood\r\n');
  await seen(/^331 .*\r\n/m);
  socket.write('PASS secret\r\n');
  await seen(/^230 .*\r\n/m);
  socket.pause();
  return { socket, received: () => text, closed };
}

describe('a backend that floods replies at a client that never reads', () => {
  let backend: FloodingBackend | undefined;
  let started: { proxy: ProxyProcess; dir: string } | undefined;

  afterEach(async () => {
    await started?.proxy.stop();
    if (started) await rm(started.dir, { recursive: true, force: true });
    await backend?.stop();
    backend = undefined;
    started = undefined;
  });

  it('pauses the backend while the client does not drain, and delivers every reply once it reads', async () => {
    // 40 unsolicited multi-line replies of 1 MiB each: 40 MiB the proxy must not hold.
    const body = `${'x'.repeat(1000)}\r\n`.repeat(1040);
    const reply = `150-big\r\n${body}150 end\r\n`;
    backend = await startFloodingBackend({ reply, count: 40 });
    started = await startProxy(backend.port);
    const rssBefore = await rssOf(started.proxy.pid);
    const client = await loginAndStopReading(started.proxy.port);
    await within(backend.floodStarted, 15_000, 'the backend never started flooding');
    await sleep(3000);
    // Only the loopback socket buffers and what the proxy holds for one reply (a few MiB) left the backend.
    expect(backend.drainedBytes()).toBeLessThan(16 * MiB);
    expect(await rssOf(started.proxy.pid)).toBeLessThan(rssBefore + 100 * MiB);

    // The client reads now: every reply arrives whole and the session goes on.
    const afterLogin = client.received().length;
    const all = new Promise<void>((resolve) => {
      client.socket.on('data', () => {
        if (client.received().length - afterLogin >= reply.length * 40) resolve();
      });
    });
    client.socket.resume();
    await within(all, 60_000, () => {
      const got = client.received().length - afterLogin;
      return `the client got ${got} of ${reply.length * 40} bytes; the backend wrote ${backend?.drainedBytes()}`;
    });
    expect(client.received().endsWith('150 end\r\n')).toBe(true);
    expect(client.received().split('150 end\r\n').length - 1).toBe(40);
    client.socket.destroy();
  });

  it('ends a session whose backend floods replies with 421, logs the flood once, then idles and drains', async () => {
    backend = await startFloodingBackend({ reply: '200 flood\r\n', count: 50_000_000 });
    started = await startProxy(backend.port);
    const { proxy } = started;
    const rssBefore = await rssOf(proxy.pid);
    const client = await loginAndStopReading(proxy.port);
    // The proxy ends the session although the client reads nothing.
    const deadline = Date.now() + 15_000;
    while (!proxy.stderr().includes('flooded the session') && Date.now() < deadline) await sleep(100);
    expect(await rssOf(proxy.pid)).toBeLessThan(rssBefore + 100 * MiB);

    // The client reads what it was sent: a bounded number of replies, then the 421 that ended the session.
    client.socket.resume();
    await client.closed;
    const replies = client
      .received()
      .split('\r\n')
      .filter((line) => line !== '');
    expect(replies.at(-1)).toMatch(/^421 /);
    expect(replies.filter((line) => line === '200 flood').length).toBeLessThanOrEqual(64);

    const lines = proxy.stderr().split('\n');
    expect(
      lines.filter((line) => line.includes('unsolicited backend reply relayed')).length,
    ).toBeLessThanOrEqual(3);
    expect(lines.some((line) => line.includes('flooded the session'))).toBe(true);

    // The worker is idle after the client left (well under half a core over two seconds)...
    const before = await cpuTicksOf(proxy.pid);
    await sleep(2000);
    expect((await cpuTicksOf(proxy.pid)) - before).toBeLessThan(100);
    // ...and drains at once on SIGTERM.
    proxy.signal('SIGTERM');
    const code = await Promise.race([proxy.exited(), sleep(10_000).then(() => 'still running')]);
    expect(code).toBe(0);
  });
});
