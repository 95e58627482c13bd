import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend } from '../support/ftp-backends.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const SESSIONS = 200;

/**
 * Each connect policy over 200 real sessions through the proxy to three real backends (pure-ftpd:
 * ProFTPD's master pauses after every session, which would make this minutes long).
 */
describe('connect policies through the proxy', () => {
  const backends: FtpBackend[] = [];
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    backends.push(
      ...(await Promise.all(
        ['a', 'b', 'c'].map((name) => startFtpBackend('pure-ftpd', { name: `policy-${name}` })),
      )),
    );
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(backends.map((backend) => backend.stop()));
  });

  const proxyWith = async (connectPolicy: string) => {
    const proxy = await startTestProxy({
      backends: backends.map((b) => b.url),
      poolSettings: { connectPolicy },
    });
    proxies.push(proxy);
    return proxy;
  };
  /** Which backend served a session: its banner names it. */
  const served = (banner: string | undefined) => backends.findIndex((b) => banner?.includes(b.name));
  const oneSession = async (port: number, localAddress?: string) => {
    const ftp = await RawFtp.open(port, '127.0.0.1', localAddress);
    const banner = await ftp.reply();
    await ftp.command('QUIT');
    ftp.destroy();
    return served(banner);
  };

  it('RoundRobin alternates exactly', async () => {
    const proxy = await proxyWith('RoundRobin');
    const picks: number[] = [];
    for (let i = 0; i < SESSIONS; i++) picks.push(await oneSession(proxy.port));
    expect(picks).toEqual(picks.map((_, i) => i % 3));
  });

  it('Random spreads sessions over every backend', async () => {
    const proxy = await proxyWith('Random');
    const counts = [0, 0, 0];
    for (let i = 0; i < SESSIONS; i++) counts[await oneSession(proxy.port)]! += 1;
    // Expected 66.7 each, standard deviation about 6.7: four of them either way.
    for (const count of counts) expect(count).toBeGreaterThan(40);
    expect(counts.reduce((a, b) => a + b)).toBe(SESSIONS);
  });

  it('Shuffle uses every backend once per round', async () => {
    const proxy = await proxyWith('Shuffle');
    const picks: number[] = [];
    for (let i = 0; i < 201; i++) picks.push(await oneSession(proxy.port));
    for (let round = 0; round < 67; round++) {
      expect(new Set(picks.slice(round * 3, round * 3 + 3)).size, `round ${round}`).toBe(3);
    }
  });

  it('LeastConns follows the sessions that are still open', async () => {
    const proxy = await proxyWith('LeastConns');
    const held: { ftp: RawFtp; backend: number }[] = [];
    // Open sessions one by one: each goes where the fewest are open, so they stay level.
    for (let i = 0; i < 12; i++) {
      const ftp = await RawFtp.open(proxy.port);
      held.push({ ftp, backend: served(await ftp.reply()) });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const open = (index: number) => held.filter((session) => session.backend === index).length;
    expect([open(0), open(1), open(2)]).toEqual([4, 4, 4]);
    // Close every session on one backend: the next ones go there until it catches up.
    const emptied = held[0]!.backend;
    for (const session of held.filter((s) => s.backend === emptied)) {
      await session.ftp.command('QUIT');
      session.ftp.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ftp = await RawFtp.open(proxy.port);
      next.push(served(await ftp.reply()));
      held.push({ ftp, backend: next.at(-1)! });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(next).toEqual([emptied, emptied, emptied, emptied]);
    for (const session of held) session.ftp.destroy();
  });

  it('PerHost keeps each client address on one backend', async () => {
    const proxy = await proxyWith('PerHost');
    const byHost = new Map<string, Set<number>>();
    for (let i = 0; i < SESSIONS; i++) {
      const host = `127.0.0.${10 + (i % 20)}`;
      const picks = byHost.get(host) ?? new Set();
      picks.add(await oneSession(proxy.port, host));
      byHost.set(host, picks);
    }
    for (const [host, picks] of byHost) expect(picks.size, host).toBe(1);
    // Twenty hosts do not all land on one backend.
    expect(new Set([...byHost.values()].map((picks) => [...picks][0])).size).toBeGreaterThan(1);
  });

  it('PerUser picks the backend at USER and keeps each user on it', async () => {
    const proxy = await proxyWith('PerUser');
    for (let i = 0; i < SESSIONS; i++) {
      const ftp = await RawFtp.open(proxy.port);
      expect(await ftp.reply()).toBe('220 FTP proxy ready.');
      expect(await ftp.command(`USER user-${i % 20}`)).toMatch(/^331/);
      await ftp.command('QUIT');
      ftp.destroy();
    }
    const byUser = new Map<string, Set<string>>();
    for (const line of proxy.logs.filter((l) => l.msg === 'connected to backend')) {
      const user = String(line.user ?? '');
      const picks = byUser.get(user) ?? new Set();
      picks.add(String(line.backend));
      byUser.set(user, picks);
    }
    expect(byUser.size).toBe(20);
    for (const [user, picks] of byUser) expect(picks.size, user).toBe(1);
  });
});
