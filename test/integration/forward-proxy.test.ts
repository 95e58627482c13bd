import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../edge-worker/config/proftpd-conf.js';
import { connectDestination } from '../../edge-worker/forward/forward-connect.js';
import { LoopGuard } from '../../edge-worker/forward/loop-guard.js';
import { Logger, silentLogger } from '../../edge-worker/log/logger.js';
import { startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { DestinationPolicy, parseAllowNetworks } from '../../functions/core/net/destination-policy.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, lftp, pythonFtp } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

/** The destination policy refuses loopback destinations unless told; these tests forward to loopback. */
const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'];
const UNABLE = '530 Unable to connect to the destination.';
const loopbackPolicy = new DestinationPolicy({
  allowNetworks: parseAllowNetworks(LOOPBACK_NETWORKS),
  ownAddresses: () => new Set<string>(),
});

/** Loopback is not RFC 1918: local clients need a class that enables forwarding. */
const LOOPBACK_CLASS = { name: 'local', from: ['127.0.0.0/8', '::1'], forwardEnabled: true };

/**
 * ProxyRole forward (mod_proxy's ProxyForwardMethod docs and lib/proxy/forward.c; its proxy_forward_* scenarios): Python ftplib, lftp
 * (ftp:proxy) and curl reach real ProFTPD and vsftpd destinations on loopback through the proxy.
 */
describe('forward proxy', () => {
  let proftpd: FtpBackend;
  let vsftpd: FtpBackend;
  let passiveOnly: FtpBackend;
  let ipv6: FtpBackend;
  let dir: string;
  let silent: Server;
  let silentPort: number;
  let busy: Server;
  let busyPort: number;
  let closedPort: number;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    [proftpd, vsftpd, passiveOnly, ipv6] = await Promise.all([
      startFtpBackend('proftpd', { name: 'fwd-proftpd' }),
      startFtpBackend('vsftpd', { name: 'fwd-vsftpd' }),
      // A server that refuses active data connections: only PASV/EPSV work there.
      startFtpBackend('proftpd', {
        name: 'fwd-passive-only',
        extraConfig: '<Limit PORT EPRT>\n  DenyAll\n</Limit>\n',
      }),
      startFtpBackend('proftpd', { name: 'fwd-ipv6', host: '::1' }),
    ]);
    for (const backend of [proftpd, vsftpd, passiveOnly, ipv6]) {
      await writeHomeFile(backend, 'whoami.txt', backend.name);
    }
    dir = await mkdtemp(join(tmpdir(), 'ftpx-forward-'));
    await writeFile(
      join(dir, 'proxy.passwd'),
      [
        `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh`,
        `bob@corp:${crypt('bob-pw')}:1002:100::/home/bob:/bin/sh`,
        '',
      ].join('\n'),
    );
    // Accepts connections and never greets: a destination whose banner times out.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    // Greets with 421, as a server at its connection limit does.
    busy = createServer((socket) => socket.end('421 Too many connections, try later\r\n'));
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
    closedPort = await freePort();
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([proftpd?.stop(), vsftpd?.stop(), passiveOnly?.stop(), ipv6?.stop()]);
    await new Promise((resolve) => silent?.close(resolve));
    await new Promise((resolve) => busy?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const forwardProxy = async (
    forward: Record<string, unknown>,
    options: {
      classes?: Record<string, unknown>[];
      pool?: Record<string, unknown>;
      listener?: Record<string, unknown>;
    } = {},
  ) => {
    const proxy = await startTestProxy({
      backends: [],
      classes: options.classes ?? [LOOPBACK_CLASS],
      poolSettings: {
        role: 'forward',
        forward,
        authUserFile: join(dir, 'proxy.passwd'),
        connectTimeout: '2s',
        retryCount: 2,
        // Every destination here is on loopback, which the destination policy refuses by default.
        allowDestinationNetworks: LOOPBACK_NETWORKS,
        ...options.pool,
      },
      ...(options.listener ? { listener: options.listener } : {}),
    });
    proxies.push(proxy);
    return proxy;
  };
  const at = (backend: FtpBackend) =>
    `${backend.user}@${backend.host.includes(':') ? `[${backend.host}]` : backend.host}:${backend.port}`;

  describe('user@host', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      // Passive to every destination: active-only clients then reach passive-only servers.
      proxy = await forwardProxy({ method: 'user@host' }, { pool: { dataTransferPolicy: 'passive' } });
    });

    it('logs in to ProFTPD and vsftpd with Python ftplib, and lists and downloads (PASV and PORT)', async () => {
      for (const backend of [proftpd, vsftpd]) {
        for (const active of [false, true]) {
          const run = await pythonFtp(
            [
              { op: 'login' },
              { op: 'nlst' },
              { op: 'retr', path: 'whoami.txt', local: join(dir, 'got.txt') },
            ],
            { host: '127.0.0.1', port: proxy.port, user: at(backend), password: backend.password, active },
          );
          expect(run.result.welcome).toBe('220 FTP forward proxy ready.');
          expect(run.result.results[0]?.reply).toMatch(/^230/);
          expect(run.result.results[1]?.lines).toContain('whoami.txt');
          expect(await readFile(join(dir, 'got.txt'), 'utf8')).toBe(backend.name);
        }
      }
      // Destination passwords never reach the log.
      expect(proxy.logText()).not.toContain(proftpd.password);
      expect(proxy.logText()).not.toContain(vsftpd.password);
    });

    it('serves lftp with ftp:proxy (USER user@host:port) for downloads and uploads', async () => {
      const local = join(dir, 'lftp-up.txt');
      await writeFile(local, 'uploaded through the forward proxy');
      const run = await lftp(
        `set ftp:proxy ftp://127.0.0.1:${proxy.port}; open -u ${vsftpd.user},${vsftpd.password} ftp://127.0.0.1:${vsftpd.port}; put ${local} -o up.txt; cat whoami.txt`,
      );
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(vsftpd.name);
      expect(await readFile(join(vsftpd.homeDir, 'up.txt'), 'utf8')).toBe(
        'uploaded through the forward proxy',
      );
    });

    it('serves curl with the destination in the user name', async () => {
      const user = encodeURIComponent(at(proftpd));
      const run = await curl([`ftp://${user}:${proftpd.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
      expect(run.stdout.toString()).toBe(proftpd.name);
      const active = await curl([
        '--ftp-port',
        '127.0.0.1',
        `ftp://${user}:${proftpd.password}@127.0.0.1:${proxy.port}/whoami.txt`,
      ]);
      expect(active.stdout.toString()).toBe(proftpd.name);
    });

    it('lets an active-only client (PORT) reach a passive-only server', async () => {
      const direct = await pythonFtp([{ op: 'login' }, { op: 'nlst' }], {
        host: passiveOnly.host,
        port: passiveOnly.port,
        user: passiveOnly.user,
        password: passiveOnly.password,
        active: true,
      });
      // The server itself refuses PORT ...
      expect(direct.result.results[1]?.error).toMatch(/^5/);
      // ... but through the proxy, whose policy is passive, the same active client gets its listing.
      const run = await pythonFtp([{ op: 'login' }, { op: 'nlst' }], {
        host: '127.0.0.1',
        port: proxy.port,
        user: at(passiveOnly),
        password: passiveOnly.password,
        active: true,
      });
      expect(run.result.results[1]?.lines).toEqual(['whoami.txt']);
    });

    it('lets an IPv4 client (PASV) reach an IPv6-only server', async () => {
      const run = await pythonFtp(
        [{ op: 'login' }, { op: 'retr', path: 'whoami.txt', local: join(dir, 'v6.txt') }],
        { host: '127.0.0.1', port: proxy.port, user: at(ipv6), password: ipv6.password },
      );
      expect(run.result.results[0]?.reply).toMatch(/^230/);
      expect(await readFile(join(dir, 'v6.txt'), 'utf8')).toBe(ipv6.name);
      // lftp writes an IPv6 destination without brackets (user@::1:port): the last ':' splits.
      const viaLftp = await lftp(
        `set ftp:proxy ftp://127.0.0.1:${proxy.port}; open -u ${ipv6.user},${ipv6.password} ftp://[::1]:${ipv6.port}; cat whoami.txt`,
      );
      expect(viaLftp.stdout).toBe(ipv6.name);
    });

    it('answers FEAT before login itself, and accepts HOST before USER', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      const feat = await ftp.command('FEAT');
      expect(feat).toMatch(/^211-/);
      expect(feat).toContain(' EPSV');
      // HOST names the proxy's own virtual host (its pool name or address), as ProFTPD's core answers it.
      expect(await ftp.command('HOST proxy.example.com')).toBe(
        '504 proxy.example.com: Unknown hostname provided',
      );
      expect(await ftp.command('HOST 127.0.0.1')).toBe('220 HOST command successful');
      await ftp.command(`USER ${at(proftpd)}`);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      // After login FEAT is the destination's, filtered (ProFTPD lists MDTM and SIZE).
      expect(await ftp.command('FEAT')).toContain(' SIZE');
      expect(await ftp.command('HOST other.example.com')).toMatch(/^503/);
      ftp.destroy();
    });

    it('refuses commands out of sequence with 530 (PWD between USER and PASS)', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command('PWD')).toBe('530 Please login with USER and PASS');
      expect(await ftp.command('LIST')).toBe('530 Please login with USER and PASS');
      expect(await ftp.command(`USER ${at(proftpd)}`)).toMatch(/^331/);
      expect(await ftp.command('PWD')).toBe('530 Please login with USER and PASS');
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      expect(await ftp.command('PWD')).toMatch(/^257 "\/"/);
      ftp.destroy();
    });

    it('relays an extra USER and an extra PASS after login to the destination, as mod_proxy does', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      await ftp.command(`USER ${at(proftpd)}`);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      // The same user again: ProFTPD accepts it (its Bug#4217), through the proxy too.
      expect(await ftp.command(`USER ${proftpd.user}`)).toBe(`230 User ${proftpd.user} logged in`);
      // No new destination: ProFTPD refuses another name itself.
      expect(await ftp.command(`USER ${at(vsftpd)}`)).toBe('501 Reauthentication not supported');
      expect(await ftp.command(`PASS ${proftpd.password}`)).toBe('503 You are already logged in');
      expect(await ftp.command('PWD')).toMatch(/^257 "\/"/);
      ftp.destroy();
    });

    it('logs in anew to another destination after a refused login', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      await ftp.command(`USER ${at(proftpd)}`);
      expect(await ftp.command('PASS wrong')).toMatch(/^530/);
      expect(await ftp.command(`USER ${at(vsftpd)}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${vsftpd.password}`)).toMatch(/^230/);
      expect(await ftp.command('SIZE whoami.txt')).toBe(`213 ${vsftpd.name.length}`);
      ftp.destroy();
    });

    it('relays a bad destination password, and closes after MaxLoginAttempts refusals', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      for (let attempt = 1; attempt <= 3; attempt++) {
        await ftp.command(`USER ${at(proftpd)}`);
        expect(await ftp.command('PASS wrong')).toMatch(/^530/);
      }
      expect(await ftp.closed()).toBe(true);
    });

    it('answers a connect failure with the generic 530, retries, and keeps the session for another try', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER someone@127.0.0.1:${closedPort}`)).toBe(UNABLE);
      // The reason is in the log only.
      expect(
        proxy.logs.some(
          (line) =>
            line.msg === 'login failed' &&
            line.reason === `cannot connect to 127.0.0.1:${closedPort}: Connection refused`,
        ),
      ).toBe(true);
      // ProxyRetryCount 2: two rounds were tried (mod_proxy would try once).
      const rounds = proxy.logs.filter(
        (line) => line.msg === 'destination address failed' && line.destination === `127.0.0.1:${closedPort}`,
      );
      expect(rounds.map((line) => line.round)).toEqual([1, 2]);
      await ftp.command(`USER ${at(proftpd)}`);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      ftp.destroy();
    });

    it('gives up on a destination that never greets after ProxyTimeoutConnect', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      const started = Date.now();
      expect(await ftp.command(`USER someone@127.0.0.1:${silentPort}`)).toBe(UNABLE);
      expect(
        proxy.logs.some(
          (line) =>
            line.reason ===
            `cannot connect to 127.0.0.1:${silentPort}: No greeting within ProxyTimeoutConnect`,
        ),
      ).toBe(true);
      // 2 rounds x 2 s.
      expect(Date.now() - started).toBeGreaterThanOrEqual(3900);
      expect(Date.now() - started).toBeLessThan(9000);
      ftp.destroy();
    });

    it('counts a destination whose greeting is not 2xx as a failed connect (login_failed_non2xx)', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER someone@127.0.0.1:${busyPort}`)).toBe(UNABLE);
      expect(
        proxy.logs.some(
          (line) =>
            line.reason ===
            `cannot connect to 127.0.0.1:${busyPort}: Server greeted with 421 Too many connections, try later`,
        ),
      ).toBe(true);
      await ftp.command(`USER ${at(vsftpd)}`);
      expect(await ftp.command(`PASS ${vsftpd.password}`)).toMatch(/^230/);
      ftp.destroy();
    });

    // An unresolvable name (the generic 530 too) is in test/security/forward-destinations.test.ts,
    // where a test DNS server answers: no query leaves the machine.
    it('refuses bad destinations: bad port; port 990 is tried as implicit FTPS', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command('USER someone@127.0.0.1:99999')).toMatch(
        /^530 Login incorrect: bad destination/,
      );
      ftp.destroy();
      const again = await RawFtp.open(proxy.port);
      await again.reply();
      // Nothing listens there: the implicit-FTPS connect fails like any other (tls/forward-tls.test.ts
      // connects to a real one).
      expect(await again.command('USER someone@127.0.0.1:990')).toBe(UNABLE);
      again.destroy();
    });

    it('refuses a destination that is the proxy itself (loop), by address and by name', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER me@127.0.0.1:${proxy.port}`)).toBe(UNABLE);
      expect(await ftp.command(`USER me@localhost:${proxy.port}`)).toBe(UNABLE);
      ftp.destroy();
      const loops = proxy.logs.filter(
        (line) =>
          line.msg === 'forward destination refused' &&
          line.reason === 'Operation not permitted (the destination is this proxy)',
      );
      expect(loops.map((line) => line.destination)).toEqual([
        `127.0.0.1:${proxy.port}`,
        `localhost:${proxy.port}`,
      ]);
    });
  });

  it('serves an IPv6 client with EPSV and EPRT (to an IPv4 server)', async () => {
    const v6 = await startTestProxy({
      backends: [],
      address: '::1',
      classes: [LOOPBACK_CLASS],
      poolSettings: {
        role: 'forward',
        forward: { method: 'user@host' },
        allowDestinationNetworks: LOOPBACK_NETWORKS,
      },
    });
    proxies.push(v6);
    for (const active of [false, true]) {
      // Over IPv6, ftplib uses EPSV, and EPRT in active mode.
      const run = await pythonFtp([{ op: 'login' }, { op: 'nlst' }], {
        host: '::1',
        port: v6.port,
        user: at(proftpd),
        password: proftpd.password,
        active,
      });
      expect(run.result.results[1]?.lines).toEqual(['whoami.txt']);
    }
    const commands = v6.logs.filter((line) => line.msg === 'command').map((line) => line.verb);
    expect(commands).toContain('EPSV');
    expect(commands).toContain('EPRT');
  });

  it('UseDirectDataTransfers: PASV and PORT go to the destination as they are', async () => {
    const direct = await forwardProxy({ method: 'user@host' }, { pool: { directDataTransfers: true } });
    for (const active of [false, true]) {
      const run = await pythonFtp(
        [{ op: 'login' }, { op: 'retr', path: 'whoami.txt', local: join(dir, 'direct.txt') }],
        { host: '127.0.0.1', port: direct.port, user: at(proftpd), password: proftpd.password, active },
      );
      expect(run.result.results[1]?.bytes).toBe(proftpd.name.length);
    }
    // The destination's own 227 reached the client: its port, not one of the proxy's.
    expect(direct.logs.some((line) => line.msg === 'backend data ready')).toBe(false);
  });

  describe('proxyuser,user@host', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({ method: 'proxyuser,user@host' });
    });

    it('logs in to the proxy first, then to the destination (ftplib and lftp)', async () => {
      const run = await pythonFtp(
        [
          { op: 'login', user: 'alice', password: 'alice-pw' },
          { op: 'login', user: at(proftpd), password: proftpd.password },
          { op: 'retr', path: 'whoami.txt', local: join(dir, 'pa.txt') },
        ],
        { host: '127.0.0.1', port: proxy.port, user: '', password: '' },
      );
      expect(run.result.results[0]?.reply).toBe('230 User alice logged in');
      expect(run.result.results[1]?.reply).toMatch(/^230/);
      expect(await readFile(join(dir, 'pa.txt'), 'utf8')).toBe(proftpd.name);
      // lftp with the proxy's credentials in ftp:proxy sends USER proxyuser / PASS, then USER user@host:port.
      const viaLftp = await lftp(
        `set ftp:proxy ftp://alice:alice-pw@127.0.0.1:${proxy.port}; open -u ${vsftpd.user},${vsftpd.password} ftp://127.0.0.1:${vsftpd.port}; cat whoami.txt`,
      );
      expect(viaLftp.stdout).toBe(vsftpd.name);
    });

    it('accepts proxy and destination user names containing "@" (the last one splits)', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command('USER bob@corp')).toBe('331 Password required for bob@corp');
      expect(await ftp.command('PASS bob-pw')).toBe('230 User bob@corp logged in');
      // "ftpx@x" is not a user of the destination: its refusal is relayed.
      expect(await ftp.command(`USER ftpx@x@127.0.0.1:${proftpd.port}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^530/);
      expect(await ftp.command(`USER ${at(proftpd)}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      // login_extra_user / login_extra_pass
      expect(await ftp.command('USER alice')).toBe('501 Reauthentication not supported');
      expect(await ftp.command('PASS alice-pw')).toBe('503 You are already logged in');
      expect(await ftp.command('PWD')).toMatch(/^257/);
      ftp.destroy();
    });

    it('refuses a bad proxy password before any connection, and commands out of sequence', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      const connectsBefore = proxy.logs.filter((line) => line.msg === 'connected to destination').length;
      expect(await ftp.command('USER alice')).toMatch(/^331/);
      expect(await ftp.command('PWD')).toBe('530 Please login with USER and PASS');
      expect(await ftp.command('PASS wrong')).toBe('530 Login incorrect.');
      // Not proxy-authenticated: USER is the proxy user again, never a destination.
      expect(await ftp.command(`USER ${at(proftpd)}`)).toMatch(/^331 Password required/);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toBe('530 Login incorrect.');
      await ftp.command('USER alice');
      // The third refusal (MaxLoginAttempts 3) is the last word.
      expect(await ftp.command('PASS still-wrong')).toBe('530 Login incorrect.');
      expect(await ftp.closed()).toBe(true);
      expect(proxy.logs.filter((line) => line.msg === 'connected to destination')).toHaveLength(
        connectsBefore,
      );
      expect(proxy.logText()).not.toContain('alice-pw');
    });

    it('applies <Limit> user rules to the proxy user', async () => {
      const limited = await forwardProxy(
        { method: 'proxyuser,user@host' },
        { listener: { limits: [{ commands: ['READ'], denyUsers: ['alice'] }] } },
      );
      const retr = async (proxyUser: string, password: string) =>
        pythonFtp(
          [
            { op: 'login', user: proxyUser, password },
            { op: 'login', user: at(proftpd), password: proftpd.password },
            { op: 'retr', path: 'whoami.txt', local: join(dir, 'limited.txt') },
          ],
          { host: '127.0.0.1', port: limited.port, user: '', password: '' },
        );
      expect((await retr('alice', 'alice-pw')).result.results[2]?.error).toBe(
        '550 RETR: Operation not permitted',
      );
      expect((await retr('bob@corp', 'bob-pw')).result.results[2]?.bytes).toBe(proftpd.name.length);
    });

    it('refuses the loop for this method too', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      await ftp.command('USER alice');
      await ftp.command('PASS alice-pw');
      expect(await ftp.command(`USER me@127.0.0.1:${proxy.port}`)).toBe(UNABLE);
      ftp.destroy();
    });
  });

  describe('proxyuser@host,user', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await forwardProxy({ method: 'proxyuser@host,user' });
    });

    it('takes the destination from the proxy login and relays the second USER unchanged', async () => {
      const run = await pythonFtp(
        [
          { op: 'login', user: `alice@127.0.0.1:${vsftpd.port}`, password: 'alice-pw' },
          { op: 'login', user: vsftpd.user, password: vsftpd.password },
          { op: 'nlst' },
        ],
        { host: '127.0.0.1', port: proxy.port, user: '', password: '' },
      );
      expect(run.result.results[0]?.reply).toBe('230 User alice logged in');
      expect(run.result.results[1]?.reply).toMatch(/^230/);
      expect(run.result.results[2]?.lines).toContain('whoami.txt');
    });

    it('handles a proxy user with "@", a bad destination password, and a bad proxy password', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      expect(await ftp.command(`USER bob@corp@127.0.0.1:${proftpd.port}`)).toMatch(/^331/);
      expect(await ftp.command('PASS bob-pw')).toBe('230 User bob@corp logged in');
      expect(await ftp.command(`USER ${proftpd.user}`)).toMatch(/^331/);
      expect(await ftp.command('PASS wrong')).toMatch(/^530/);
      expect(await ftp.command(`USER ${proftpd.user}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${proftpd.password}`)).toMatch(/^230/);
      ftp.destroy();
      const other = await RawFtp.open(proxy.port);
      await other.reply();
      expect(await other.command(`USER alice@127.0.0.1:${proftpd.port}`)).toMatch(/^331/);
      expect(await other.command('PASS nope')).toBe('530 Login incorrect.');
      expect(await other.command('USER alice')).toBe('530 Login incorrect.');
      other.destroy();
    });

    it('refuses the loop at the destination USER', async () => {
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      await ftp.command(`USER alice@localhost:${proxy.port}`);
      expect(await ftp.command('PASS alice-pw')).toMatch(/^230/);
      expect(await ftp.command('USER anyone')).toBe(UNABLE);
      ftp.destroy();
    });
  });

  it('runs from a proftpd.conf: <Class>, ProxyForwardMethod, ProxyForwardTo, AuthUserFile', async () => {
    const port = await freePort();
    const loaded = parseProftpdConfig(
      join(dir, 'proftpd.conf'),
      [
        '<Class loopback>',
        '  From 127.0.0.0/8, ::1',
        '  ProxyForwardEnabled on',
        '</Class>',
        'DefaultAddress 127.0.0.1',
        `Port ${port}`,
        'ProxyEngine on',
        `ProxyTables ${join(dir, 'tables')}`,
        'ProxyTLSEngine off',
        'ProxyRole forward',
        'ProxyForwardMethod proxyuser,user@host',
        `ProxyForwardTo ^127\\.0\\.0\\.1:${vsftpd.port}$`,
        `AuthUserFile ${join(dir, 'proxy.passwd')}`,
        '',
      ].join('\n'),
    );
    const lines: string[] = [];
    const worker = await startEdgeWorker(
      loaded.config,
      new Logger({ write: (line) => lines.push(line) }, 'info'),
    );
    try {
      const ok = await lftp(
        `set ftp:proxy ftp://alice:alice-pw@127.0.0.1:${port}; open -u ${vsftpd.user},${vsftpd.password} ftp://127.0.0.1:${vsftpd.port}; cat whoami.txt`,
      );
      expect(ok.stdout).toBe(vsftpd.name);
      const refused = await RawFtp.open(port);
      await refused.reply();
      await refused.command('USER alice');
      expect(await refused.command('PASS alice-pw')).toBe('230 User alice logged in');
      expect(await refused.command(`USER ${at(proftpd)}`)).toBe(UNABLE);
      refused.destroy();
      expect(lines.join('')).toContain(
        `host/port 127.0.0.1:${proftpd.port} did not match ProxyForwardTo ^127\\\\.0\\\\.0\\\\.1:${vsftpd.port}$`,
      );
    } finally {
      await worker.close();
    }
  });

  describe('connecting', () => {
    it('tries every address the name resolves to, in order, until one greets', async () => {
      // The name resolves to 127.0.0.1 (nothing listens on that port there) and ::1 (the server).
      const resolved: string[] = [];
      const connected = await connectDestination(
        { host: 'dual.example', port: ipv6.port, hostPort: `dual.example:${ipv6.port}` },
        {
          timeoutMs: 2000,
          retryCount: 1,
          sourceAddress: undefined,
          loopGuard: new LoopGuard(() => []),
          log: silentLogger,
          policy: loopbackPolicy,
          resolve: async (host) => {
            resolved.push(host);
            return ['127.0.0.1', '::1'];
          },
        },
      );
      try {
        expect(resolved).toEqual(['dual.example']);
        expect(connected.address).toBe('::1');
        expect(connected.banner.lines[0]).toContain(ipv6.name);
      } finally {
        connected.control.destroy();
      }
    });

    it('refuses the whole destination when any of its addresses is this proxy', async () => {
      const attempt = connectDestination(
        { host: 'mixed.example', port: proftpd.port, hostPort: `mixed.example:${proftpd.port}` },
        {
          timeoutMs: 2000,
          retryCount: 1,
          sourceAddress: undefined,
          loopGuard: new LoopGuard(() => [{ address: '0.0.0.0', port: proftpd.port }]),
          log: silentLogger,
          policy: loopbackPolicy,
          resolve: async () => ['::1', '127.0.0.1'],
        },
      );
      await expect(attempt).rejects.toThrow('Operation not permitted (the destination is this proxy)');
    });
  });

  describe('access control', () => {
    it('refuses clients of no enabled class (loopback is not RFC 1918) and of a disabled class', async () => {
      const proxy = await forwardProxy(
        { method: 'user@host' },
        { classes: [{ name: 'blocked', from: ['127.0.0.2'], forwardEnabled: false }] },
      );
      const ftp = await RawFtp.open(proxy.port);
      expect(await ftp.reply()).toBe('421 Forward proxying is not allowed from 127.0.0.1.');
      expect(await ftp.closed()).toBe(true);
      const blocked = await RawFtp.open(proxy.port, '127.0.0.1', '127.0.0.2');
      expect(await blocked.reply()).toBe('421 Forward proxying is not allowed from 127.0.0.2.');
      const reasons = proxy.logs
        .filter((line) => line.msg === 'forward proxying refused for this client')
        .map((line) => line.reason);
      expect(reasons).toEqual([
        'not an RFC 1918 address and no class with ProxyForwardEnabled on',
        'class "blocked" has ProxyForwardEnabled off',
      ]);
    });

    it('ProxyForwardTo: only matching destinations, and with "!" only non-matching ones', async () => {
      const only = await forwardProxy({
        method: 'user@host',
        to: { pattern: `^127\\.0\\.0\\.1:${proftpd.port}$` },
      });
      const ok = await curl([
        `ftp://${encodeURIComponent(at(proftpd))}:${proftpd.password}@127.0.0.1:${only.port}/whoami.txt`,
      ]);
      expect(ok.stdout.toString()).toBe(proftpd.name);
      const ftp = await RawFtp.open(only.port);
      await ftp.reply();
      expect(await ftp.command(`USER ${at(vsftpd)}`)).toBe(UNABLE);
      ftp.destroy();
      expect(
        only.logs.some((line) =>
          String(line.reason).startsWith(
            `host/port 127.0.0.1:${vsftpd.port} did not match ProxyForwardTo ^127`,
          ),
        ),
      ).toBe(true);

      const negated = await forwardProxy({
        method: 'user@host',
        to: { pattern: `:${proftpd.port}$`, negate: true },
      });
      const refused = await RawFtp.open(negated.port);
      await refused.reply();
      expect(await refused.command(`USER ${at(proftpd)}`)).toBe(UNABLE);
      await refused.command(`USER ${at(vsftpd)}`);
      expect(await refused.command(`PASS ${vsftpd.password}`)).toMatch(/^230/);
      refused.destroy();
    });

    it('refuses user@sni on a listener without FTPS', async () => {
      const proxy = await forwardProxy({ method: 'user@sni' });
      const ftp = await RawFtp.open(proxy.port);
      await ftp.reply();
      // mod_proxy's text; why goes to the log.
      expect(await ftp.command('USER anyone')).toBe('530 Login incorrect.');
      expect(await ftp.command('AUTH TLS')).toMatch(/^502/);
      ftp.destroy();
      expect(
        proxy.logs.some(
          (line) =>
            line.reason === 'user@sni needs FTPS with an SNI name: this listener has no FTPS (tls block)',
        ),
      ).toBe(true);
    });
  });
});
