import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectSpy, spyOnConnects } from '../support/connect-spy.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/** Loopback is not RFC 1918: local clients need a class that enables forwarding at all. */
const LOOPBACK_CLASS = { name: 'local', from: ['127.0.0.0/8', '::1'], forwardEnabled: true };
const UNABLE = '530 Unable to connect to the destination.';

/**
 * Issue 14, hole 6: the forward proxy as an SSRF tool. A client names destinations that a text
 * match on what it typed would let through (numeric spellings of 127.0.0.1, IPv4-mapped IPv6, a DNS
 * name that resolves inward) and destinations that must never be reached (link-local, the cloud
 * metadata address, unspecified, multicast). Every one gets the same 530 and the reason is logged.
 * Loopback destinations are a real ProFTPD; the others are never connected to: a spy on
 * net.Socket.prototype.connect sees every connect of this process and stops any non-loopback one
 * before the system call. Names resolve through a test DNS server on loopback (dns.servers), so
 * no DNS query leaves the machine either.
 */
describe('forward proxy destinations', () => {
  let proftpd: FtpBackend;
  let dns: TestDnsServer;
  let spy: ConnectSpy;
  const proxies: TestProxy[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    spy = spyOnConnects();
    [proftpd, dns] = await Promise.all([
      startFtpBackend('proftpd', { name: 'ssrf-proftpd' }),
      startDnsServer(),
    ]);
    await writeHomeFile(proftpd, 'whoami.txt', proftpd.name);
    dns.set('inward.test', 'A', [{ ttl: 60, data: '127.0.0.1' }]);
    dns.set('inward6.test', 'AAAA', [{ ttl: 60, data: '::ffff:127.0.0.1' }]);
    dns.set('metadata.test', 'A', [{ ttl: 60, data: '169.254.169.254' }]);
    dns.set('linklocal6.test', 'AAAA', [{ ttl: 60, data: 'fe80::1' }]);
    dns.set('zero.test', 'A', [{ ttl: 60, data: '0.0.0.0' }]);
    dns.set('multicast.test', 'A', [{ ttl: 60, data: '224.0.0.1' }]);
    // One public and one metadata address: the whole name is refused, not just the bad address.
    dns.set('mixed.test', 'A', [
      { ttl: 60, data: '192.0.2.10' },
      { ttl: 60, data: '169.254.169.254' },
    ]);
  });

  afterAll(async () => {
    spy?.restore();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const server of servers) server.close();
    await Promise.all([proftpd?.stop(), dns?.close()]);
  });

  const forwardProxy = async (pool: Record<string, unknown> = {}, forward: Record<string, unknown> = {}) => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [LOOPBACK_CLASS],
      settings: { dns: { servers: [dns.address], timeout: '1s' } },
      // Many refused destinations on one connection (each counts as a failed login).
      listener: { maxLoginAttempts: 100 },
      poolSettings: {
        role: 'forward',
        forward: { method: 'user@host', ...forward },
        connectTimeout: '1s',
        retryCount: 1,
        ...pool,
      },
    });
    proxies.push(proxy);
    return proxy;
  };

  /** Reasons the proxy logged for refusing or failing destinations (the client never sees them). */
  const reasons = (proxy: TestProxy) =>
    proxy.logs.filter((line) => line.msg === 'login failed').map((line) => String(line.reason));

  const bypassForms = (port: number) => [
    `2130706433:${port}`,
    `0177.0.0.1:${port}`,
    `0x7f.1:${port}`,
    `0x7f000001:${port}`,
    `127.1:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    `[::ffff:7f00:1]:${port}`,
    `inward.test:${port}`,
    `inward6.test:${port}`,
  ];

  it('refuses every spelling of 127.0.0.1 with no rule and with a deny rule; an explicit ProxyForwardTo lets an honest session through', async () => {
    const open = await forwardProxy();
    const denying = await forwardProxy({}, { to: { pattern: '^127\\.', negate: true } });
    const toProftpd = () => spy.calls.filter((call) => call === `127.0.0.1:${proftpd.port}`).length;
    const before = toProftpd();
    for (const proxy of [open, denying]) {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      for (const form of bypassForms(proftpd.port)) {
        expect(await ftp.command(`USER ${proftpd.user}@${form}`), form).toBe(UNABLE);
      }
      ftp.destroy();
      const logged = reasons(proxy);
      expect(logged).toHaveLength(bypassForms(proftpd.port).length);
      // The reason names the canonical address the spelling resolved to.
      for (const reason of logged) expect(reason).toMatch(/127\.0\.0\.1|ProxyForwardTo/);
    }
    expect(reasons(open).every((reason) => reason.includes('127.0.0.1 is a loopback address'))).toBe(true);
    // Not one of those sessions reached ProFTPD.
    expect(toProftpd()).toBe(before);

    // The deployment that forwards inward says so: a pattern naming the canonical address.
    const explicit = await forwardProxy({}, { to: { pattern: `^127\\.0\\.0\\.1:${proftpd.port}$` } });
    const honest = await curl([
      `ftp://${encodeURIComponent(`${proftpd.user}@127.0.0.1:${proftpd.port}`)}:${proftpd.password}@127.0.0.1:${explicit.port}/whoami.txt`,
    ]);
    expect(honest.stderr).toBe('');
    expect(honest.stdout.toString()).toBe(proftpd.name);
    expect(toProftpd()).toBeGreaterThan(before);
    // Another spelling is still not what the pattern names.
    const other = await RawFtp.open(explicit.port);
    await other.reply();
    expect(await other.command(`USER ${proftpd.user}@2130706433:${proftpd.port}`)).toBe(UNABLE);
    other.destroy();
  });

  it('never connects to link-local, metadata, unspecified or multicast destinations, even when ProxyForwardTo matches everything', async () => {
    const proxy = await forwardProxy({}, { to: { pattern: '.*' } });
    const forbidden = [
      '169.254.169.254:80',
      '2852039166:80',
      '[::ffff:169.254.169.254]:80',
      '[64:ff9b::a9fe:a9fe]:80',
      '169.254.1.1:21',
      '[fe80::1]:21',
      '0.0.0.0:21',
      '0:21',
      '[::]:21',
      '224.0.0.1:21',
      '[ff02::1]:21',
      '255.255.255.255:21',
      'metadata.test:80',
      'linklocal6.test:21',
      'zero.test:21',
      'multicast.test:21',
      'mixed.test:21',
    ];
    const callsBefore = spy.calls.length;
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    for (const destination of forbidden) {
      expect(await ftp.command(`USER anyone@${destination}`), destination).toBe(UNABLE);
    }
    // The honest session beside them: loopback, explicitly matched by the pattern.
    await ftp.command(`USER ${proftpd.user}@127.0.0.1:${proftpd.port}`);
    expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
    ftp.destroy();
    const made = spy.calls.slice(callsBefore);
    // The only connects were the client's own to the proxy and the proxy's to ProFTPD.
    expect(spy.blocked).toEqual([]);
    expect(made.filter((call) => !call.startsWith('127.0.0.1:'))).toEqual([]);
    const logged = reasons(proxy);
    expect(logged).toHaveLength(forbidden.length);
    for (const [index, kind] of [
      [0, 'metadata'],
      [1, 'metadata'],
      [2, 'metadata'],
      [3, 'metadata'],
      [4, 'link-local'],
      [5, 'link-local'],
      [6, 'unspecified'],
      [7, 'unspecified'],
      [8, 'unspecified'],
      [9, 'multicast'],
      [10, 'multicast'],
      [11, 'broadcast'],
      [12, 'metadata'],
      [13, 'link-local'],
      [14, 'unspecified'],
      [15, 'multicast'],
      [16, 'metadata'],
    ] as const) {
      expect(logged[index], forbidden[index]).toMatch(new RegExp(`is an? ${kind} address`));
    }
  });

  it('answers refused, closed, silent, foreign and unresolvable destinations with byte-identical replies (no port scanner)', async () => {
    const listen = async (onConnection: (socket: import('node:net').Socket) => void) => {
      const server = createServer(onConnection);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    };
    const silent = await listen(() => {});
    const ssh = await listen((socket) => socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const busy = await listen((socket) => socket.end('421 Too many connections\r\n'));
    const closed = await freePort();
    const proxy = await forwardProxy({ allowDestinationNetworks: ['127.0.0.0/8'] });
    const destinations = [
      '169.254.169.254:80',
      '10.0.0.1:22',
      `127.0.0.1:${closed}`,
      `127.0.0.1:${silent}`,
      `127.0.0.1:${ssh}`,
      `127.0.0.1:${busy}`,
      'no-such-name.test:21',
    ];
    /** The exact bytes of the reply to one USER, on a fresh connection. */
    const rawReply = async (destination: string) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const lines = () => Buffer.concat(chunks).toString('latin1').split('\r\n').length - 1;
      const until = async (count: number) => {
        for (let waited = 0; lines() < count && waited < 10_000; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await until(1);
      socket.write(`USER scan@${destination}\r\n`);
      await until(2);
      socket.destroy();
      const all = Buffer.concat(chunks);
      return all.subarray(all.indexOf('\r\n') + 2);
    };
    const replies = [];
    for (const destination of destinations) replies.push(await rawReply(destination));
    for (const reply of replies) expect(reply.equals(Buffer.from(`${UNABLE}\r\n`))).toBe(true);
    // What the client could not tell apart, the log keeps.
    const logged = reasons(proxy).join('\n');
    expect(logged).toContain('169.254.169.254 is a metadata address');
    expect(logged).toContain('10.0.0.1 is a private address');
    expect(logged).toContain(`127.0.0.1:${closed}: Connection refused`);
    expect(logged).toContain(`127.0.0.1:${silent}: No greeting within ProxyTimeoutConnect`);
    expect(logged).toContain('Name or service not known');
    expect(spy.blocked).toEqual([]);
  });
});
