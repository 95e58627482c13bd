import { readdir, readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, pythonFtp } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

describe('proxy behaviour (ProFTPD backends)', () => {
  let a: FtpBackend;
  let b: FtpBackend;
  let proxy: TestProxy;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startFtpBackend('proftpd', { name: 'behaviour-a' }),
      startFtpBackend('proftpd', { name: 'behaviour-b' }),
    ]);
    for (const backend of [a, b]) await writeHomeFile(backend, 'whoami.txt', backend.name);
    proxy = await startTestProxy({ backends: [a.url] });
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('refuses a control line over 4 KiB with 500 and keeps the session', async () => {
    const ftp = await RawFtp.open(proxy.port);
    expect(await ftp.reply()).toMatch(/^220/);
    expect(await ftp.command(`USER ${'x'.repeat(5000)}`)).toMatch(/^500 Command line too long/);
    // A flood without any line end is discarded as it arrives; the next line is served normally.
    ftp.write('y'.repeat(256 * 1024));
    expect(await ftp.command('')).toMatch(/^500 Command line too long/);
    expect(await ftp.command(`USER ${a.user}`)).toMatch(/^331/);
    expect(await ftp.command(`PASS ${a.password}`)).toMatch(/^230/);
    expect(await ftp.command('QUIT')).toMatch(/^221/);
    ftp.destroy();
  });

  it('answers commands that need a login with 530 before USER/PASS', async () => {
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    for (const command of ['PASV', 'EPSV', 'LIST', 'RETR whoami.txt', 'STOR x', 'CWD /', 'PWD']) {
      expect(await ftp.command(command), command).toMatch(/^530 /);
    }
    expect(await ftp.command('SYST')).toMatch(/^215/);
    expect(await ftp.command('AUTH TLS')).toMatch(/^502/);
    expect(await ftp.command('PORT 127,0,0,1,200,10')).toMatch(/^530/);
    ftp.destroy();
  });

  it('refuses URL credentials without proxy authentication (see test/security/url-credentials)', async () => {
    // They would replace whatever the client sends: anyone would be logged in as the URL's user.
    const refused = await startTestProxy({
      backends: [`ftp://${a.user}:${a.password}@127.0.0.1:${a.port}`],
    }).catch((err: unknown) => err);
    expect(String(refused)).toContain('a password in a backend URL needs proxy authentication');
    expect(String(refused)).not.toContain(a.password);
  });

  it('keeps the client password for a user:@host URL', async () => {
    const userOnly = await startTestProxy({ backends: [`ftp://${a.user}:@127.0.0.1:${a.port}`] });
    try {
      const ftp = await RawFtp.open(userOnly.port);
      await ftp.reply();
      await ftp.command('USER whoever');
      expect(await ftp.command('PASS wrong')).toMatch(/^530/);
      await ftp.command('USER whoever');
      expect(await ftp.command(`PASS ${a.password}`)).toMatch(/^230/);
      ftp.destroy();
    } finally {
      await userOnly.close();
    }
  });

  it('relays STOU uploads and honours EPSV ALL', async () => {
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    await ftp.command(`USER ${a.user}`);
    expect(await ftp.command(`PASS ${a.password}`)).toMatch(/^230/);
    expect(await ftp.command('EPSV ALL')).toMatch(/^200/);
    expect(await ftp.command('PASV')).toMatch(/^503/);
    const epsv = await ftp.command('EPSV');
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv ?? '')?.[1]);
    const data = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => data.once('connect', resolve));
    expect(await ftp.command('STOU')).toMatch(/^150/);
    data.end('unique upload\n');
    const done = await ftp.reply();
    expect(done).toMatch(/^226/);
    const stored = (await readdir(a.homeDir)).filter((name) => !['whoami.txt'].includes(name));
    const contents = await Promise.all(
      stored.map((name) => readFile(join(a.homeDir, name), 'utf8').catch(() => '')),
    );
    expect(contents).toContain('unique upload\n');
    ftp.destroy();
  });

  it('gives a clear 421 at once when every backend is down', async () => {
    const dead = [await freePort(), await freePort()].map((port) => `ftp://127.0.0.1:${port}`);
    const downProxy = await startTestProxy({ backends: dead });
    try {
      const started = Date.now();
      const ftp = await RawFtp.open(downProxy.port);
      expect(await ftp.reply()).toMatch(/^421 Service not available, no backend server reachable/);
      expect(await ftp.closed()).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      const curlStarted = Date.now();
      const viaCurl = await curl([`ftp://u:p@127.0.0.1:${downProxy.port}/x`]);
      // curl reports a 421 greeting as error 28 ("Timeout was reached"), but it came at once.
      expect(viaCurl.code).toBe(28);
      expect(Date.now() - curlStarted).toBeLessThan(5000);
    } finally {
      await downProxy.close();
    }
  });

  it('skips a backend that greets with a non-2xx banner', async () => {
    const busy = createServer((socket) => socket.end('421 Too many users, try later\r\n'));
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as { port: number }).port;
    const busyProxy = await startTestProxy({ backends: [`ftp://127.0.0.1:${busyPort}`, a.url] });
    try {
      const body = await curl([`ftp://${a.user}:${a.password}@127.0.0.1:${busyProxy.port}/whoami.txt`]);
      expect(body.stdout.toString()).toBe(a.name);
      const failure = busyProxy.logs.find((line) => line.msg === 'backend connect failed');
      expect(String(failure?.reason)).toMatch(/greeted with 421 Too many users/);
    } finally {
      await busyProxy.close();
      busy.close();
    }
  });

  it('times out a backend that accepts but never greets, then tries the next', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    const timeoutProxy = await startTestProxy({
      backends: [`ftp://127.0.0.1:${silentPort}`, a.url],
      connectTimeout: '500ms',
    });
    try {
      const started = Date.now();
      const body = await curl([`ftp://${a.user}:${a.password}@127.0.0.1:${timeoutProxy.port}/whoami.txt`]);
      expect(body.stdout.toString()).toBe(a.name);
      expect(Date.now() - started).toBeLessThan(4000);
      const failure = timeoutProxy.logs.find((line) => line.msg === 'backend connect failed');
      expect(String(failure?.reason)).toMatch(/timed out/);
    } finally {
      await timeoutProxy.close();
      silent.close();
    }
  });

  it('alternates between two edge workers that share one store', async () => {
    const first = await startTestProxy({ backends: [a.url, b.url], pool: 'shared' });
    const second = await startTestProxy({
      backends: [a.url, b.url],
      pool: 'shared',
      storeEndpoint: first.worker.storeEndpoint,
    });
    try {
      const served: string[] = [];
      for (let i = 0; i < 4; i++) {
        const port = i % 2 === 0 ? first.port : second.port;
        served.push(
          (await curl([`ftp://${a.user}:${a.password}@127.0.0.1:${port}/whoami.txt`])).stdout.toString(),
        );
      }
      expect(served).toEqual([a.name, b.name, a.name, b.name]);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('tells the client 421 when its backend dies, and goes on serving everyone else', async () => {
    const doomed = await startFtpBackend('proftpd', { name: 'doomed' });
    const survivor = await startTestProxy({ backends: [doomed.url, b.url] });
    try {
      const ftp = await RawFtp.open(survivor.port);
      expect(await ftp.reply()).toMatch(/doomed/);
      expect(await ftp.command(`USER ${doomed.user}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${doomed.password}`)).toMatch(/^230/);
      await doomed.stop();
      const reply = await ftp.command('NOOP');
      expect(reply).toMatch(/^421/);
      expect(await ftp.closed()).toBe(true);
      const { result } = await pythonFtp([{ op: 'login' }, { op: 'raw', command: 'NOOP' }], {
        host: '127.0.0.1',
        port: survivor.port,
        user: b.user,
        password: b.password,
      });
      expect(result.welcome).toMatch(/behaviour-b/);
      expect(result.results[1]?.reply).toMatch(/^200/);
    } finally {
      await survivor.close();
      await doomed.stop();
    }
  });
});
