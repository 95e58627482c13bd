import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type HaproxyRelay, startHaproxyRelay } from '../support/haproxy.js';
import { type NetFtpOptions, type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { startTestProxy, type TestProxy, type TestProxyOptions } from '../support/proxy.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's reverse-proxy FTPS scenarios (proxy_reverse_* in t/lib/ProFTPD/Tests/Modules/mod_proxy/tls.pm
 * of https://github.com/Castaglia/proftpd-mod_proxy), against ftpx with ProFTPD mod_tls backends. The
 * client is Net::FTP with its own TLS (IO::Socket::SSL): the suite's Net::FTPSSL is not packaged in
 * Debian; both send AUTH TLS, PBSZ 0 and PROT P.
 */
const AWAITING_FIX: Unrun[] = [];

// proxy_reverse_frontend_backend_tls_roundrobin_login_after_host: host.test.ts.
const DIFFERS: Unrun[] = [];

const LEFT_OUT: Unrun[] = [
  {
    scenario: 'proxy_reverse_backend_tls_login_psk',
    reason:
      'TLS-PSK to the backend is tested in test/integration/tls/backend-tls.test.ts against openssl s_server; the ProFTPD test backends have no PSK setting',
  },
];

const TEST_DATA = 'Hello, Proxying World!\n';

describe('mod_proxy conformance: TLS (reverse)', () => {
  const table = new ConformanceTable('TLS (reverse)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let ca: TestCa;
  let plain: FtpBackend;
  let tls: FtpBackend;
  let implicit: FtpBackend;
  let unknownCa: FtpBackend;
  let clientAuth: FtpBackend;
  let tls13: FtpBackend;
  /** TLSOptions NoSessionReuseRequired: Net::FTP's data connections reach it directly (UseDirectDataTransfers). */
  let tlsNoReuse: FtpBackend;
  let scratch: string;
  const proxies = new Map<string, Promise<TestProxy>>();
  const relays: HaproxyRelay[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    const withTls = (cert: { cert: string; key: string }, extra: Record<string, unknown> = {}) => ({
      tls: { cert: cert.cert, key: cert.key, ...extra },
    });
    [plain, tls, implicit, unknownCa, clientAuth, tls13, tlsNoReuse] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Real Server plain' }),
      startFtpBackend('proftpd', { name: 'Real Server', ...withTls(ca.server) }),
      // Implicit FTPS on its own port, 990 (the suite's scenario reaches a public server there).
      startFtpBackend('proftpd', {
        name: 'Real Server implicit',
        port: 990,
        ...withTls(ca.server, { implicit: true }),
      }),
      startFtpBackend('proftpd', { name: 'Real Server unknown CA', ...withTls(ca.unknownCa) }),
      startFtpBackend('proftpd', {
        name: 'Real Server client auth',
        ...withTls(ca.server, { clientCa: ca.caCert }),
      }),
      startFtpBackend('proftpd', { name: 'Real Server TLSv1.3', ...withTls(ca.server) }),
      startFtpBackend('proftpd', {
        name: 'Real Server no reuse',
        ...withTls(ca.server),
        extraConfig: 'TLSOptions NoSessionReuseRequired EnableDiags\n',
      }),
    ]);
    for (const server of [plain, tls, implicit, unknownCa, clientAuth, tls13, tlsNoReuse]) {
      await writeHomeFile(server, 'test.txt', TEST_DATA);
    }
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-conformance-tls-'));
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).close()));
    await Promise.allSettled(relays.map((relay) => relay.stop()));
    await Promise.all(
      [plain, tls, implicit, unknownCa, clientAuth, tls13, tlsNoReuse].map((server) => server?.stop()),
    );
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await ca?.remove();
  });

  function proxyWith(key: string, options: () => Partial<TestProxyOptions>): Promise<TestProxy> {
    let proxy = proxies.get(key);
    if (!proxy) {
      proxy = startTestProxy({ backends: [plain.url], retryCount: 1, ...options() });
      proxies.set(key, proxy);
    }
    return proxy;
  }

  // Net::FTP does not resume the control connection's TLS session on data connections (Net::FTPSSL,
  // the suite's client, does): ProFTPD itself refuses them unless TLSOptions NoSessionReuseRequired.
  const frontendTls = (extra: Record<string, unknown> = {}) => ({
    tls: {
      certificates: [{ cert: ca.server.cert, key: ca.server.key }],
      sessionReuseRequired: false,
      ...extra,
    },
  });
  const backendTls = (extra: Record<string, unknown> = {}) => ({ tls: { caFile: ca.caCert, ...extra } });
  const login = (server: FtpBackend): NetFtpStep => ({
    op: 'login',
    user: server.user,
    pass: server.password,
  });
  /** As Net::FTPSSL with Encryption 'E': AUTH TLS, then PBSZ 0 and PROT P (Net::FTP's starttls sends PROT P too). */
  const FTPS: NetFtpStep[] = [{ op: 'starttls' }, { op: 'prot', level: 'P' }];
  const run = (proxy: TestProxy, steps: NetFtpStep[], options: Partial<NetFtpOptions> = {}) =>
    netFtp(steps, { port: proxy.port, ...options });

  describe('frontend FTPS only', () => {
    const frontendOnly = () => proxyWith('frontend', () => ({ listener: frontendTls() }));

    table.scenario('proxy_reverse_frontend_tls_login', async () => {
      const session = await run(await frontendOnly(), [...FTPS, login(plain), { op: 'quit' }]);
      expect(session.steps[0]?.ok).toBe(true);
      expect(session.steps[2]?.code).toBe(230);
    });

    table.scenario('proxy_reverse_frontend_tls_login_failed', async () => {
      const session = await run(await frontendOnly(), [
        ...FTPS,
        { op: 'login', user: plain.user, pass: 'foobar' },
        { op: 'quit' },
      ]);
      expectReply(session.steps[2], 530, 'Login incorrect.');
    });

    table.scenario('proxy_reverse_frontend_tls_login_tlslogin', async () => {
      // A client certificate does not replace the password: the backend still asks for it.
      const proxy = await proxyWith('frontend-client-cert', () => ({
        listener: frontendTls({ verifyClient: 'optional', clientCA: ca.caCert }),
      }));
      const session = await run(
        proxy,
        [...FTPS, { op: 'quot', cmd: 'USER', arg: plain.user }, { op: 'quit' }],
        {
          clientCert: ca.client.cert,
          clientKey: ca.client.key,
        },
      );
      expectReply(session.steps[2], 331, `Password required for ${plain.user}`);
    });

    table.scenario('proxy_reverse_frontend_tls_list_pasv', async () => {
      const session = await run(await frontendOnly(), [
        ...FTPS,
        login(plain),
        { op: 'list', read: 'all' },
        { op: 'quit' },
      ]);
      expect(session.steps[3]?.data).toContain('test.txt');
      expectReply(session.steps[3], 226, 'Transfer complete');
    });

    table.scenario('proxy_reverse_frontend_tls_json_peruser', async () => {
      await writeFile(join(scratch, `${plain.user}.json`), JSON.stringify([plain.url]));
      const proxy = await proxyWith('frontend-json', () => ({
        backends: [`file:${join(scratch, '%U.json')}`],
        poolSettings: { connectPolicy: 'PerUser' },
        listener: frontendTls(),
      }));
      const session = await run(proxy, [...FTPS, login(plain), { op: 'quit' }]);
      expect(session.steps[2]?.code).toBe(230);
    });
  });

  describe('backend FTPS only', () => {
    for (const [name, key] of [
      ['proxy_reverse_backend_tls_login', 'tls'],
      ['proxy_reverse_backend_tls_implicit_login', 'implicit'],
      ['proxy_reverse_backend_tls_login_tlsv13_issue197', 'tls13'],
    ] as const) {
      table.scenario(name, async () => {
        const server = { tls, implicit, tls13 }[key];
        const proxy = await proxyWith(`backend-${key}`, () => ({
          backends: [server.url],
          poolSettings: backendTls(key === 'tls13' ? { protocols: ['TLSv1.3'] } : {}),
        }));
        const session = await run(proxy, [login(server), { op: 'quit' }], { timeout: 15 });
        expect(session.steps[0]?.code).toBe(230);
        expectReply(session.steps[1], 221, 'Goodbye.');
      });
    }

    for (const [name, withList] of [
      ['proxy_reverse_backend_tls_login_cached_session', false],
      ['proxy_reverse_backend_tls_login_cached_ticket', true],
    ] as const) {
      table.scenario(name, async () => {
        const proxy = await proxyWith('backend-tls', () => ({
          backends: [tls.url],
          poolSettings: backendTls(),
        }));
        for (let i = 0; i < 3; i++) {
          const steps: NetFtpStep[] = [
            login(tls),
            ...(withList ? [{ op: 'list', read: 'all' } as NetFtpStep] : []),
            { op: 'quit' },
          ];
          const session = await run(proxy, steps);
          expect(session.steps[0]?.code).toBe(230);
          if (withList) expectTransferOk(session.steps[1]);
        }
      });
    }

    table.scenario('proxy_reverse_backend_tls_login_client_auth', async () => {
      const proxy = await proxyWith('backend-client-auth', () => ({
        backends: [clientAuth.url],
        poolSettings: backendTls({ certFile: ca.client.cert, keyFile: ca.client.key }),
      }));
      const session = await run(proxy, [login(clientAuth), { op: 'quit' }]);
      expect(session.steps[0]?.code).toBe(230);
    });

    for (const [name, key] of [
      ['proxy_reverse_backend_tls_login_failed_unknown_ca', 'unknown-ca'],
      ['proxy_reverse_backend_tls_login_failed_missing_client_auth', 'missing-client-auth'],
    ] as const) {
      table.scenario(name, async () => {
        const server = key === 'unknown-ca' ? unknownCa : clientAuth;
        const proxy = await proxyWith(`backend-${key}`, () => ({
          backends: [server.url],
          poolSettings: backendTls(),
        }));
        const session = await run(proxy, [{ op: 'quit' }]);
        expect(session.connected).toBe(false);
      });
    }

    table.scenario('proxy_reverse_backend_tls_list_pasv', async () => {
      const proxy = await proxyWith('backend-tls', () => ({
        backends: [tls.url],
        poolSettings: backendTls(),
      }));
      const session = await run(proxy, [login(tls), { op: 'list', read: 'all' }, { op: 'quit' }]);
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
    });
  });

  describe('frontend and backend FTPS', () => {
    const both = () =>
      proxyWith('both', () => ({ backends: [tls.url], poolSettings: backendTls(), listener: frontendTls() }));

    table.scenario('proxy_reverse_frontend_backend_tls_peruser_login_after_host', async () => {
      const proxy = await proxyWith('both-peruser-host', () => ({
        backends: [tls.url],
        poolSettings: { ...backendTls(), connectPolicy: 'PerUser', hostNames: ['127.0.0.1'] },
        listener: { ...frontendTls(), hostPools: ['test'] },
      }));
      const session = await run(proxy, [
        ...FTPS,
        { op: 'quot', cmd: 'HOST', arg: '127.0.0.1' },
        login(tls),
        { op: 'list', read: 'all' },
        { op: 'quit' },
      ]);
      expectReply(session.steps[2], 220);
      expect(session.steps[3]?.code).toBe(230);
      expectReply(session.steps[4], 226, 'Transfer complete');
    });

    for (const [name, passive] of [
      ['proxy_reverse_frontend_backend_tls_list_pasv', true],
      ['proxy_reverse_frontend_backend_tls_list_port', false],
    ] as const) {
      table.scenario(name, async () => {
        const session = await run(
          await both(),
          [...FTPS, login(tls), { op: 'list', read: 'all' }, { op: 'quit' }],
          {
            passive,
          },
        );
        expect(session.steps[3]?.data).toContain('test.txt');
        expectReply(session.steps[3], 226, 'Transfer complete');
      });
    }

    for (const [name, passive] of [
      ['proxy_reverse_frontend_backend_tls_nlst_pasv_error_issue244', true],
      ['proxy_reverse_frontend_backend_tls_nlst_port_error_issue244', false],
    ] as const) {
      table.scenario(name, async () => {
        const bad = '/foo/bar/baz';
        const session = await run(
          await both(),
          [...FTPS, login(tls), { op: 'nlst', path: bad }, { op: 'nlst', path: bad }, { op: 'quit' }],
          { passive },
        );
        expectReply(session.steps[3], 450, `${bad}: No such file or directory`);
        expectReply(session.steps[4], 450, `${bad}: No such file or directory`);
        expectReply(session.steps[5], 221, 'Goodbye.');
      });
    }

    table.scenario('proxy_reverse_frontend_backend_tls_abort', async () => {
      const session = await run(await both(), [
        ...FTPS,
        login(tls),
        { op: 'quot', cmd: 'ABOR' },
        { op: 'quit' },
      ]);
      expectReply(session.steps[3], 226, 'Abort successful');
    });
  });

  describe('ProxyTLS* configuration', () => {
    table.scenario('proxy_reverse_config_backend_tls_engine_auto_unavail', async () => {
      const proxy = await proxyWith('auto-plain', () => ({ poolSettings: backendTls({ engine: 'auto' }) }));
      const session = await run(proxy, [login(plain), { op: 'quit' }]);
      expect(session.steps[0]?.code).toBe(230);
    });

    for (const [name, backend, engine] of [
      ['proxy_reverse_config_backend_tls_engine_auto_ftps_uri_unavail', 'ftps', 'auto'],
      ['proxy_reverse_config_backend_tls_engine_on_unavail', 'ftp', 'on'],
    ] as const) {
      table.scenario(name, async () => {
        const proxy = await proxyWith(`${engine}-${backend}-unavail`, () => ({
          backends: [`${backend}://127.0.0.1:${plain.port}`],
          poolSettings: backendTls({ engine, handshakeTimeout: '3s' }),
        }));
        const session = await run(proxy, [{ op: 'quit' }], { timeout: 10 });
        expect(session.connected).toBe(false);
      });
    }

    table.scenario('proxy_reverse_config_backend_tls_engine_match_client_ftp', async () => {
      const proxy = await proxyWith('match-client', () => ({
        backends: [tls.url.replace('ftps://', 'ftp://')],
        poolSettings: backendTls({ engine: 'MatchClient', enableDiags: true }),
        listener: frontendTls(),
      }));
      const session = await run(proxy, [login(tls), { op: 'list', read: 'all' }, { op: 'quit' }]);
      expect(session.steps[0]?.code).toBe(230);
      expectTransferOk(session.steps[1]);
      expect(proxy.logs.some((line) => line.msg === 'backend TLS handshake')).toBe(false);
    });

    table.scenario('proxy_reverse_config_backend_tls_engine_match_client_ftps_explicit', async () => {
      const proxy = await proxyWith('match-client', () => ({
        backends: [tls.url.replace('ftps://', 'ftp://')],
        poolSettings: backendTls({ engine: 'MatchClient', enableDiags: true }),
        listener: frontendTls(),
      }));
      const session = await run(proxy, [...FTPS, login(tls), { op: 'list', read: 'all' }, { op: 'quit' }]);
      expect(session.steps[2]?.code).toBe(230);
      expectReply(session.steps[3], 226, 'Transfer complete');
      expect(proxy.logs.some((line) => line.msg === 'backend TLS handshake')).toBe(true);
    });

    table.scenario('proxy_reverse_config_backend_tls_engine_match_client_ftps_implicit', async () => {
      // As in the suite: the backend's URL says ftp://, the backend speaks implicit FTPS, and MatchClient
      // takes implicit FTPS to it because the client came in that way (PerUser: connected at USER).
      const proxy = await proxyWith('match-client-implicit', () => ({
        backends: [implicit.url.replace('ftps://', 'ftp://')],
        poolSettings: {
          ...backendTls({ engine: 'MatchClient', enableDiags: true }),
          connectPolicy: 'PerUser',
        },
        listener: frontendTls({ mode: 'implicit' }),
      }));
      const session = await run(
        proxy,
        [{ op: 'prot', level: 'P' }, login(implicit), { op: 'list', read: 'all' }, { op: 'quit' }],
        { tls: 'implicit' },
      );
      expect(session.steps[1]?.code).toBe(230);
      expectReply(session.steps[2], 226, 'Transfer complete');
      expect(proxy.logs.some((line) => line.msg === 'backend TLS handshake')).toBe(true);
    });

    for (const [name, server, options] of [
      ['proxy_reverse_config_backend_tls_connect_policy_per_user', 'tls', {}],
      ['proxy_reverse_config_backend_tls_connect_policy_per_user_failed_unknown_ca', 'unknownCa', {}],
      ['proxy_reverse_config_backend_tls_verify_server_off', 'unknownCa', { verifyServer: false }],
      ['proxy_reverse_config_backend_tls_no_session_cache', 'tls', { noSessionCache: true }],
    ] as const) {
      table.scenario(name, async () => {
        const backend = server === 'tls' ? tls : unknownCa;
        const perUser = name.includes('per_user');
        const proxy = await proxyWith(name, () => ({
          backends: [backend.url],
          poolSettings: { ...backendTls(options), ...(perUser ? { connectPolicy: 'PerUser' } : {}) },
        }));
        const session = await run(proxy, [login(backend), { op: 'list', read: 'all' }, { op: 'quit' }]);
        if (name.endsWith('failed_unknown_ca')) {
          expect(session.steps[0]?.ok).toBe(false);
          expectReply(session.steps[0], 530, 'Login incorrect.');
        } else {
          expect(session.steps[0]?.code).toBe(230);
          expectTransferOk(session.steps[1]);
        }
      });
    }

    table.scenario('proxy_reverse_config_backend_tls_ctrl_use_direct_data_transfers_pasv', async () => {
      // Data goes between client and backend directly, so it must be clear: TLS on the control only.
      const proxy = await proxyWith('direct-ctrl-tls', () => ({
        backends: [tls.url],
        poolSettings: { ...backendTls({ transferProtection: 'clear' }), directDataTransfers: true },
      }));
      const session = await run(proxy, [login(tls), { op: 'list', read: 'all' }, { op: 'quit' }]);
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
    });

    table.scenario(
      'proxy_reverse_config_frontend_backend_tls_required_use_direct_data_transfers_pasv',
      async () => {
        // The data connections go to the backend itself, which must then take Net::FTP's unresumed sessions.
        const proxy = await proxyWith('direct-both-tls', () => ({
          backends: [tlsNoReuse.url],
          poolSettings: { ...backendTls({ transferProtection: 'client' }), directDataTransfers: true },
          listener: frontendTls({ required: 'on' }),
        }));
        const session = await run(proxy, [
          ...FTPS,
          login(tlsNoReuse),
          { op: 'list', read: 'all' },
          { op: 'quit' },
        ]);
        expect(session.steps[3]?.data).toContain('test.txt');
        expectReply(session.steps[3], 226, 'Transfer complete');
      },
    );

    table.scenario('proxy_reverse_proxy_protocol_v2_tlv_ssl', async () => {
      const relay = await startHaproxyRelay({
        target: { host: '127.0.0.1', port: plain.port },
        acceptProxy: true,
      });
      relays.push(relay);
      const proxy = await proxyWith('pp-ssl', () => ({
        backends: [`ftp://127.0.0.1:${relay.port}`],
        poolSettings: { sendProxyProtocol: 'v2-tlvs' },
        listener: frontendTls(),
      }));
      const session = await run(proxy, [...FTPS, login(plain), { op: 'quit' }]);
      expect(session.steps[2]?.code).toBe(230);
      await expect
        .poll(async () => (await relay.connectionLog()).some((line) => line.startsWith('client=127.0.0.1:')))
        .toBe(true);
    });
  });
});
