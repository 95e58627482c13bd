import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type HaproxyRelay, startHaproxyRelay } from '../support/haproxy.js';
import { type NetFtpOptions, type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { freePort } from '../support/ports.js';
import { startTestProxy, type TestProxy, type TestProxyOptions } from '../support/proxy.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's reverse-proxy scenarios about configuration (proxy_reverse_config_* timeouts, connect
 * policies, JSON server lists, TransferRate, and proxy_reverse_proxy_protocol_*; mod_proxy.pm of
 * https://github.com/Castaglia/proftpd-mod_proxy), against ftpx with real ProFTPD backends and Net::FTP.
 */
const AWAITING_FIX: Unrun[] = [];

const LEFT_OUT: Unrun[] = [
  {
    scenario: 'proxy_reverse_connect_failed_non2xx',
    reason:
      "the suite's backend refuses with mod_wrap2 before its greeting; reaching it needs a backend whose greeting is not 2xx, which the test backends' start-up check (their 220 names them) rules out",
  },
  {
    scenario: 'proxy_reverse_connect_failed_timeout',
    reason:
      'needs a backend address that drops SYNs (the suite uses an unroutable one); the tests may only reach loopback, where connects are refused at once',
  },
];

/** ftpx differs from mod_proxy here today (not an item-2 finding): reported, not run. */
const DIFFERS: Unrun[] = [];

const TEST_DATA = 'Hello, Proxying World!\n';

describe('mod_proxy conformance: reverse configuration', () => {
  const table = new ConformanceTable('reverse (configuration)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let a: FtpBackend;
  let b: FtpBackend;
  /** TimeoutIdle 4, TimeoutNoTransfer 2, TimeoutStalled 2 on the backend. */
  let idle: FtpBackend;
  let noTransfer: FtpBackend;
  let stalled: FtpBackend;
  let scratch: string;
  const proxies = new Map<string, Promise<TestProxy>>();
  const relays: HaproxyRelay[] = [];

  beforeAll(async () => {
    [a, b, idle, noTransfer, stalled] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Real Server' }),
      startFtpBackend('proftpd', { name: 'Real Server 2' }),
      startFtpBackend('proftpd', { name: 'Real Server idle', idleTimeoutSeconds: 4 }),
      startFtpBackend('proftpd', { name: 'Real Server noxfer', extraConfig: 'TimeoutNoTransfer 2\n' }),
      startFtpBackend('proftpd', { name: 'Real Server stalled', extraConfig: 'TimeoutStalled 2\n' }),
    ]);
    for (const server of [a, b, idle, noTransfer, stalled])
      await writeHomeFile(server, 'test.txt', TEST_DATA);
    await writeHomeFile(a, 'rate.txt', 'R'.repeat(4096));
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-conformance-reverse-config-'));
    const hash = execFileSync('openssl', ['passwd', '-6', 'test'], { encoding: 'utf8' }).trim();
    await writeFile(join(scratch, 'proxy.passwd'), `proftpd:${hash}:500:500::/tmp:/bin/bash\n`);
    await writeFile(join(scratch, 'proxy.group'), 'ftpd:x:500:proftpd\n');
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).close()));
    await Promise.allSettled(relays.map((relay) => relay.stop()));
    await Promise.all([a, b, idle, noTransfer, stalled].map((server) => server?.stop()));
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function proxyWith(key: string, options: () => Partial<TestProxyOptions>): Promise<TestProxy> {
    let proxy = proxies.get(key);
    if (!proxy) {
      proxy = startTestProxy({ backends: [a.url], ...options() });
      proxies.set(key, proxy);
    }
    return proxy;
  }

  const login = (server: FtpBackend = a): NetFtpStep => ({
    op: 'login',
    user: server.user,
    pass: server.password,
  });
  const run = (proxy: TestProxy, steps: NetFtpStep[], options: Partial<NetFtpOptions> = {}) =>
    netFtp(steps, { port: proxy.port, host: proxy.host, ...options });

  // proxy_reverse_login_roundrobin_after_host, where HOST moves the session to another pool: host.test.ts.
  describe('HOST before USER', () => {
    // The suite's proxy has a name-based virtual host (ServerAlias) for the name the client sends.
    const namedHost = (connectPolicy: string) => ({
      listener: { hostPools: ['named'] },
      extraPools: [{ name: 'named', hostNames: ['127.0.0.1'], backends: [a.url], connectPolicy }],
    });

    table.scenario('proxy_reverse_login_peruser_after_host', async () => {
      const proxy = await proxyWith('host-peruser', () => namedHost('PerUser'));
      const session = await run(proxy, [
        { op: 'quot', cmd: 'HOST', arg: '127.0.0.1' },
        login(),
        { op: 'quit' },
      ]);
      // PerUser chooses at USER: the 220 is the proxy's own.
      expectReply(session.steps[0], 220);
      expectReply(session.steps[1], 230, `User ${a.user} logged in`);
    });
  });

  describe('timeouts', () => {
    table.scenario('proxy_reverse_config_timeoutlogin_frontend', async () => {
      const proxy = await proxyWith('login-2', () => ({
        listener: { timeouts: { login: '2s', idle: '10s' } },
      }));
      const session = await run(proxy, [
        login(),
        { op: 'sleep', seconds: 4 },
        { op: 'quot', cmd: 'NOOP' },
        { op: 'quit' },
      ]);
      // Logged in: the login timeout no longer applies.
      expectReply(session.steps[2], 200);
    });

    table.scenario('proxy_reverse_config_timeoutstalled_frontend', async () => {
      const proxy = await proxyWith('stalled-2', () => ({ listener: { timeouts: { stalled: '2s' } } }));
      const session = await run(proxy, [
        login(),
        { op: 'stor', path: 'test.txt', data: 'Hello, World!\n', pauseBeforeSeconds: 4 },
        { op: 'quot', cmd: 'NOOP' },
      ]);
      expect(session.steps[2]?.ok).toBe(false);
      expect([421, 599]).toContain(session.steps[2]?.code);
      expect(session.steps[2]?.lines?.join('\n')).toMatch(/Connection closed/);
    });

    table.scenario('proxy_reverse_config_timeoutstalled_backend', async () => {
      const proxy = await proxyWith('stalled-backend', () => ({
        backends: [stalled.url],
        listener: { timeouts: { stalled: '12s' } },
      }));
      const session = await run(proxy, [
        login(stalled),
        { op: 'stor', path: 'test.txt', data: 'Hello, World!\n', pauseBeforeSeconds: 4 },
        { op: 'quot', cmd: 'NOOP' },
      ]);
      expect(session.steps[2]?.ok).toBe(false);
      expect([421, 599]).toContain(session.steps[2]?.code);
      expect(session.steps[2]?.lines?.join('\n')).toMatch(/Connection closed/);
    });

    table.scenario('proxy_reverse_config_timeoutidle_backend', async () => {
      const proxy = await proxyWith('idle-backend', () => ({
        backends: [idle.url],
        listener: { timeouts: { idle: '10s' } },
      }));
      const session = await run(proxy, [
        login(idle),
        { op: 'sleep', seconds: 8 },
        { op: 'quot', cmd: 'NOOP' },
      ]);
      expect(session.steps[2]?.ok).toBe(false);
      expectReply(session.steps[2], 421, 'Idle timeout (4 seconds): closing control connection');
    });

    table.scenario('proxy_reverse_config_timeoutnoxfer_backend', async () => {
      const proxy = await proxyWith('noxfer-backend', () => ({
        backends: [noTransfer.url],
        listener: { timeouts: { noTransfer: '10s' } },
      }));
      const session = await run(proxy, [login(noTransfer), { op: 'sleep', seconds: 4 }, { op: 'list' }]);
      expect(session.steps[2]?.ok).toBe(false);
      expectReply(session.steps[2], 421, 'No transfer timeout (2 seconds): closing control connection');
    });
  });

  describe('ProxyReverseConnectPolicy', () => {
    for (const [suffix, policy] of [
      ['random', 'Random'],
      ['shuffle', 'Shuffle'],
      ['roundrobin', 'RoundRobin'],
      ['leastconns', 'LeastConns'],
      ['leastresponsetime', 'LeastResponseTime'],
      ['per_host', 'PerHost'],
      ['per_user', 'PerUser'],
    ] as const) {
      table.scenario(`proxy_reverse_config_connect_policy_${suffix}`, async () => {
        const proxy = await proxyWith(`policy-${policy}`, () => ({
          backends: [a.url, b.url],
          poolSettings: { connectPolicy: policy },
        }));
        for (let i = 0; i < 3; i++) {
          const session = await run(proxy, [login(), { op: 'quit' }]);
          expectReply(session.steps[0], 230, `User ${a.user} logged in`);
        }
      });
    }

    table.scenario('proxy_reverse_config_connect_policy_roundrobin_issue132', async () => {
      const closed = [await freePort(), await freePort()];
      const proxy = await proxyWith('rr-132', () => ({
        backends: [a.url, ...closed.map((port) => `ftp://127.0.0.1:${port}`)],
        retryCount: 1,
      }));
      const first = await run(proxy, [login(), { op: 'quit' }]);
      expectReply(first.steps[0], 230, `User ${a.user} logged in`);
      // The next backend in turn is down and there is no retry: that client gets no session.
      const second = await run(proxy, [{ op: 'quit' }], { timeout: 3 });
      expect(second.connected).toBe(false);
    });

    table.scenario('proxy_reverse_config_connect_policy_per_user_by_json', async () => {
      await writeFile(join(scratch, `${b.user}-servers.json`), JSON.stringify([b.url]));
      const proxy = await proxyWith('per-user-json', () => ({
        backends: [a.url, `file:${join(scratch, '%U-servers.json')}`],
        poolSettings: { connectPolicy: 'PerUser' },
      }));
      for (let i = 0; i < 3; i++) {
        const session = await run(proxy, [login(b), { op: 'quit' }]);
        expectReply(session.greeting, 220);
        expectReply(session.steps[0], 230, `User ${b.user} logged in`);
      }
      const picked = proxy.logs
        .filter((line) => line.msg === 'connected to backend')
        .map((line) => String(line.backend));
      expect(picked.length).toBeGreaterThanOrEqual(3);
      expect(picked.every((url) => url.includes(`:${b.port}`))).toBe(true);
    });

    table.scenario('proxy_reverse_config_connect_policy_per_group', async () => {
      const proxy = await proxyWith('per-group', () => ({
        backends: [a, b].map((server) => `ftp://${server.user}:${server.password}@127.0.0.1:${server.port}`),
        poolSettings: {
          connectPolicy: 'PerGroup',
          proxyAuth: true,
          authUserFile: join(scratch, 'proxy.passwd'),
          authGroupFile: join(scratch, 'proxy.group'),
        },
      }));
      for (let i = 0; i < 3; i++) {
        const session = await run(proxy, [{ op: 'login', user: 'proftpd', pass: 'test' }, { op: 'quit' }]);
        expect(session.steps[0]?.code).toBe(230);
      }
    });
  });

  describe('ProxyReverseServers JSON files', () => {
    table.scenario('proxy_reverse_config_reverseservers_json', async () => {
      await writeFile(join(scratch, 'servers.json'), JSON.stringify([a.url]));
      const proxy = await proxyWith('json', () => ({ backends: [`file:${join(scratch, 'servers.json')}`] }));
      const session = await run(proxy, [login(), { op: 'quit' }]);
      expectReply(session.steps[0], 230, `User ${a.user} logged in`);
    });

    table.scenario('proxy_reverse_config_reverseservers_json_per_user', async () => {
      await writeFile(join(scratch, `${a.user}.json`), JSON.stringify([a.url]));
      const proxy = await proxyWith('json-per-user', () => ({
        backends: [`file:${join(scratch, '%U.json')}`],
        poolSettings: { connectPolicy: 'PerUser' },
      }));
      const session = await run(proxy, [login(), { op: 'quit' }]);
      expectReply(session.steps[0], 230, `User ${a.user} logged in`);
    });
  });

  describe('TransferRate', () => {
    table.scenario('proxy_reverse_config_transfer_rate_retr', async () => {
      // The suite: TransferRate RETR 1 (KiB/s) and an 8 KiB file take more than 6 s; 4 KiB here, more than 2.5 s.
      const proxy = await proxyWith('rate', () => ({
        listener: { transferRate: [{ commands: ['RETR'], kibPerSecond: 1 }] },
      }));
      const session = await run(
        proxy,
        [login(), { op: 'retr', path: 'rate.txt', read: 'all' }, { op: 'quit' }],
        {
          timeout: 30,
        },
      );
      expectTransferOk(session.steps[1]);
      expect(session.steps[1]?.bytes).toBe(4096);
      expect(session.steps[1]?.seconds).toBeGreaterThan(2.5);
      expectReply(session.steps[2], 221, 'Goodbye.');
    });
  });

  describe('PROXY protocol to the backend', () => {
    const relayTo = async (bindAddress: '127.0.0.1' | '::1') => {
      const relay = await startHaproxyRelay({
        target: { host: '127.0.0.1', port: a.port },
        acceptProxy: true,
        bindAddress,
      });
      relays.push(relay);
      return relay;
    };
    for (const [suffix, version, address, host] of [
      ['v1_ipv4', 'v1', '127.0.0.1', false],
      ['v1_ipv6', 'v1', '::1', false],
      ['v2_ipv4', 'v2', '127.0.0.1', false],
      ['v2_ipv6', 'v2', '::1', false],
      ['v2_tlv_alpn', 'v2-tlvs', '127.0.0.1', false],
      ['v2_tlv_authority', 'v2-tlvs', '127.0.0.1', true],
      ['v2_tlv_unique_id', 'v2-tlvs', '127.0.0.1', false],
    ] as const) {
      table.scenario(`proxy_reverse_proxy_protocol_${suffix}`, async () => {
        // As the suite: the client comes over IPv4; the ipv6 scenarios reach the backend over ::1.
        const relay = await relayTo(address);
        const proxy = await startTestProxy({
          backends: [address === '::1' ? `ftp://[::1]:${relay.port}` : `ftp://127.0.0.1:${relay.port}`],
          poolSettings: { sendProxyProtocol: version },
        });
        proxies.set(`pp-${suffix}`, Promise.resolve(proxy));
        const steps: NetFtpStep[] = [login(), { op: 'quit' }];
        if (host) steps.unshift({ op: 'quot', cmd: 'HOST', arg: '127.0.0.1' });
        const session = await run(proxy, steps);
        expectReply(session.steps[host ? 1 : 0], 230, `User ${a.user} logged in`);
        // The backend side read the header: it names the client (IPv4-mapped when the header is TCP6).
        await expect
          .poll(
            async () =>
              (await relay.connectionLog()).some((line) => /^client=(::ffff:)?127\.0\.0\.1:/.test(line)),
            {
              timeout: 5000,
            },
          )
          .toBe(true);
      });
    }
  });

  describe('needs the item-2 fixes', () => {
    table.scenario('proxy_reverse_config_timeoutidle_frontend', async () => {
      const proxy = await proxyWith('idle-4', () => ({ listener: { timeouts: { idle: '4s' } } }));
      const session = await run(proxy, [login(), { op: 'sleep', seconds: 6 }, { op: 'quot', cmd: 'NOOP' }]);
      expect(session.steps[2]?.ok).toBe(false);
      expectReply(session.steps[2], 421, 'Idle timeout (4 seconds): closing control connection');
    });

    table.scenario('proxy_reverse_config_timeoutnoxfer_frontend', async () => {
      const proxy = await proxyWith('noxfer-2', () => ({ listener: { timeouts: { noTransfer: '2s' } } }));
      const session = await run(proxy, [login(), { op: 'sleep', seconds: 4 }, { op: 'list' }]);
      expect(session.steps[2]?.ok).toBe(false);
      expectReply(session.steps[2], 421, 'No transfer timeout (2 seconds): closing control connection');
    });

    table.scenario('proxy_reverse_config_connect_policy_per_user_no_fallback_issue148', async () => {
      await writeFile(join(scratch, `${a.user}-only.json`), JSON.stringify([a.url]));
      const proxy = await proxyWith('per-user-148', () => ({
        backends: [`file:${join(scratch, '%U-only.json')}`],
        poolSettings: { connectPolicy: 'PerUser' },
      }));
      const session = await run(proxy, [
        { op: 'login', user: a.user, pass: 'WRONG PASSWORD' },
        { op: 'quot', cmd: 'USER', arg: 'WrongUser' },
      ]);
      expectReply(session.steps[0], 530, 'Login incorrect.');
      expectReply(session.steps[1], 530, 'Login incorrect.');
    });
  });
});
