import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type NetFtpOptions, type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * More of mod_proxy's forward-proxy scenarios (proxy_forward_* in t/lib/ProFTPD/Tests/Modules/mod_proxy.pm
 * of https://github.com/Castaglia/proftpd-mod_proxy): the greeting, ProxyForwardTo, UseDirectDataTransfers,
 * destinations that refuse logins (`<Limit LOGIN>`), user names with an at-sign, the login sequence
 * with proxy authentication, and user@sni. Real ProFTPD destinations, Net::FTP as the client (with its
 * own TLS, IO::Socket::SSL, for the SNI name), the suite's expectations.
 */
const AWAITING_FIX: Unrun[] = [];

const LIMIT_LOGIN_DIFFERS =
  "deliberate (docs/forward-proxy.md): a destination that refuses the session gets the one '530 Unable to connect to the destination.', the reason in the log only; mod_proxy answers 'Unable to connect to 127.0.0.1:<port>: Operation not permitted'";

const DIFFERS: Unrun[] = [
  ...[
    'noproxyauth_login_failed_login_limit',
    'userwithproxyauth_login_failed_limit_login',
    'proxyuserwithproxyauth_login_failed_limit_login',
  ].map((suffix) => ({ scenario: `proxy_forward_${suffix}`, reason: LIMIT_LOGIN_DIFFERS })),
];

const LEFT_OUT: Unrun[] = [];

const TEST_DATA = 'Hello, Proxying World!\n';
/** The suite's user names with an at-sign in them (the last '@' starts the destination). */
const AT_USER = 'proftpd@proftpd.org';
const AT_PASSWORD = 'test';
const AT_PROXY_USER = 'proxy-user@proftpd.org';

describe('mod_proxy conformance: forward (more)', () => {
  const table = new ConformanceTable('forward (more)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let backend: FtpBackend;
  let tlsBackend: FtpBackend;
  /** `<Limit LOGIN> DenyAll`, as the suite's destination in the login-limit scenarios. */
  let deniedBackend: FtpBackend;
  /** Implicit FTPS (TLSOptions UseImplicitSSL) on a port of its own, not 990. */
  let implicitBackend: FtpBackend;
  let ca: TestCa;
  let scratch: string;
  const proxies = new Map<string, Promise<TestProxy>>();

  const crypt = (password: string) =>
    execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    ca = await createTestCa();
    [backend, tlsBackend, deniedBackend, implicitBackend] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Real Server' }),
      startFtpBackend('proftpd', {
        name: 'Real TLS Server',
        tls: { cert: ca.server.cert, key: ca.server.key, required: true },
      }),
      startFtpBackend('proftpd', { name: 'Real Server denied' }),
      startFtpBackend('proftpd', {
        name: 'Real Server implicit',
        tls: { cert: ca.server.cert, key: ca.server.key, required: true, implicit: true },
      }),
    ]);
    // <Limit LOGIN> DenyAll refuses every connection before the greeting, which the backend's start-up
    // check waits for: added once it is up, and ProFTPD rereads its configuration on SIGHUP.
    const deniedDir = dirname(deniedBackend.homeDir);
    await appendFile(join(deniedDir, 'proftpd.conf'), '<Limit LOGIN>\n  DenyAll\n</Limit>\n');
    process.kill(Number((await readFile(join(deniedDir, 'proftpd.pid'), 'utf8')).trim()), 'SIGHUP');
    for (let i = 0; i < 50 && !/SIGHUP/.test(await readFile(join(deniedDir, 'proftpd.log'), 'utf8')); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    for (const server of [backend, tlsBackend]) await writeHomeFile(server, 'test.txt', TEST_DATA);
    // The destination's second account, whose name has an at-sign (ProFTPD rereads its AuthUserFile per session).
    await appendFile(
      join(dirname(backend.homeDir), 'ftpd.passwd'),
      `${AT_USER}:${crypt(AT_PASSWORD)}:65534:65534::${backend.homeDir}:/bin/sh\n`,
    );
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-conformance-forward-more-'));
    await chmod(scratch, 0o755);
    await writeFile(
      join(scratch, 'proxy.passwd'),
      [
        `proxy-user:${crypt('proxy-test')}:65534:65534::${scratch}:/bin/sh`,
        `${AT_PROXY_USER}:${crypt('proxy-test')}:65534:65534::${scratch}:/bin/sh`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).close()));
    await Promise.all([backend, tlsBackend, deniedBackend, implicitBackend].map((server) => server?.stop()));
    await ca?.remove();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** One forward ftpx per configuration (ProxyTimeoutConnect 1, ServerIdent "Forward Proxy Server"). */
  function forwardProxy(
    key: string,
    forward: Record<string, unknown>,
    pool: Record<string, unknown> = {},
    listener: Record<string, unknown> = {},
  ): Promise<TestProxy> {
    let proxy = proxies.get(key);
    if (!proxy) {
      const method = String(forward.method);
      proxy = startTestProxy({
        backends: [],
        classes: [{ name: 'forward-proxy', from: ['127.0.0.0/8'], forwardEnabled: true }],
        connectTimeout: '1s',
        listener: { greeting: 'Forward Proxy Server', ...listener },
        poolSettings: {
          role: 'forward',
          forward,
          retryCount: 1,
          allowDestinationNetworks: ['127.0.0.0/8'],
          ...(method.startsWith('proxyuser') ? { authUserFile: join(scratch, 'proxy.passwd') } : {}),
          ...pool,
        },
      });
      proxies.set(key, proxy);
    }
    return proxy;
  }

  const userAtHost = () => forwardProxy('user@host', { method: 'user@host' });
  const dst = (server: FtpBackend = backend) => `127.0.0.1:${server.port}`;
  const run = async (proxy: Promise<TestProxy>, steps: NetFtpStep[], options: Partial<NetFtpOptions> = {}) =>
    netFtp(steps, { port: (await proxy).port, ...options });

  describe('greeting and ProxyForwardTo', () => {
    table.scenario('proxy_forward_connect', async () => {
      const session = await run(userAtHost(), [{ op: 'quit' }]);
      expectReply(session.greeting, 220, /.*Forward Proxy Server/);
    });

    for (const [name, to] of [
      // ProxyForwardTo ^google.com [NC]: 127.0.0.1 does not match.
      ['proxy_forward_config_forward_to', { pattern: '^google.com', ignoreCase: true }],
      // ProxyForwardTo !^127\.0\.0\.1 [NC]: 127.0.0.1 matches, and the rule is negated.
      [
        'proxy_forward_config_forward_to_negated',
        { pattern: '^127\\.0\\.0\\.1', negate: true, ignoreCase: true },
      ],
    ] as const) {
      table.scenario(name, async () => {
        const session = await run(forwardProxy(name, { method: 'user@host', to }), [
          { op: 'login', user: `${backend.user}@${dst()}`, pass: backend.password },
          { op: 'quit' },
        ]);
        // "Login succeeded unexpectedly" is the suite's only check.
        expect(session.steps[0]?.ok).toBe(false);
        expect(session.steps[0]?.code).toBe(530);
      });
    }
  });

  describe('UseDirectDataTransfers', () => {
    for (const [name, passive] of [
      ['proxy_forward_config_use_direct_data_transfers_pasv', true],
      ['proxy_forward_config_use_direct_data_transfers_port', false],
    ] as const) {
      table.scenario(name, async () => {
        const proxy = forwardProxy('direct', { method: 'user@host' }, { directDataTransfers: true });
        const session = await run(
          proxy,
          [
            { op: 'login', user: `${backend.user}@${dst()}`, pass: backend.password },
            { op: 'list', read: 'once' },
            { op: 'quit' },
          ],
          { passive },
        );
        expect(session.steps[1]?.data).toContain('test.txt');
        expectTransferOk(session.steps[1]);
      });
    }
  });

  // The destination's <Limit LOGIN> DenyAll: ProFTPD refuses the session.
  describe('destinations that refuse logins', () => {
    const limited = () => deniedBackend;
    table.deliberate('proxy_forward_noproxyauth_login_failed_login_limit', async () => {
      const session = await run(userAtHost(), [
        { op: 'quot', cmd: 'USER', arg: `${limited().user}@${dst(limited())}` },
        { op: 'quit' },
      ]);
      expect(session.steps[0]?.ok).toBe(false);
      // mod_proxy: `Unable to connect to 127.0.0.1:<port>: Operation not permitted`.
      expectReply(session.steps[0], 530, 'Unable to connect to the destination.');
    });

    for (const [name, method, proxyUser, destUser] of [
      [
        'proxy_forward_userwithproxyauth_login_failed_limit_login',
        'proxyuser,user@host',
        () => 'proxy-user',
        () => `${limited().user}@${dst(limited())}`,
      ],
      [
        'proxy_forward_proxyuserwithproxyauth_login_failed_limit_login',
        'proxyuser@host,user',
        () => `proxy-user@${dst(limited())}`,
        () => limited().user,
      ],
    ] as const) {
      table.deliberate(name, async () => {
        const session = await run(forwardProxy(method, { method }), [
          { op: 'login', user: proxyUser(), pass: 'proxy-test' },
          { op: 'login', user: destUser(), pass: limited().password },
          { op: 'quit' },
        ]);
        expect(session.steps[1]?.ok).toBe(false);
        // mod_proxy: `Unable to connect to 127.0.0.1:<port>: Operation not permitted`.
        expectReply(session.steps[1], 530, 'Unable to connect to the destination.');
      });
    }
  });

  describe('user names with an at-sign', () => {
    table.scenario('proxy_forward_userwithproxyauth_login_user_incl_at_symbol', async () => {
      const session = await run(forwardProxy('proxyuser,user@host', { method: 'proxyuser,user@host' }), [
        { op: 'login', user: 'proxy-user', pass: 'proxy-test' },
        { op: 'login', user: `${AT_USER}@${dst()}`, pass: AT_PASSWORD },
        { op: 'quit' },
      ]);
      expect(session.steps[0]?.ok).toBe(true);
      expectReply(session.steps[1], 230, `User ${AT_USER} logged in`);
      expectReply(session.steps[2], 221, 'Goodbye.');
    });

    table.scenario('proxy_forward_proxyuserwithproxyauth_login_user_incl_at_symbol', async () => {
      const session = await run(forwardProxy('proxyuser@host,user', { method: 'proxyuser@host,user' }), [
        { op: 'login', user: `${AT_PROXY_USER}@${dst()}`, pass: 'proxy-test' },
        { op: 'login', user: backend.user, pass: backend.password },
        { op: 'quit' },
      ]);
      expect(session.steps[0]?.ok).toBe(true);
      expectReply(session.steps[1], 230, `User ${backend.user} logged in`);
    });
  });

  describe('the login sequence with proxy authentication', () => {
    for (const [name, method, proxyUser, destUser] of [
      [
        'proxy_forward_userwithproxyauth_login_failed_bad_sequence',
        'proxyuser,user@host',
        () => 'proxy-user',
        () => `${backend.user}@${dst()}`,
      ],
      [
        'proxy_forward_proxyuserwithproxyauth_login_failed_bad_sequence',
        'proxyuser@host,user',
        () => `proxy-user@${dst()}`,
        () => backend.user,
      ],
    ] as const) {
      table.scenario(name, async () => {
        const session = await run(forwardProxy(method, { method }), [
          { op: 'quot', cmd: 'USER', arg: proxyUser() },
          { op: 'quot', cmd: 'PWD' },
          // The proxy login completes; nothing but the destination's USER is served before it.
          { op: 'quot', cmd: 'PASS', arg: 'proxy-test' },
          { op: 'quot', cmd: 'CWD', arg: '/' },
          { op: 'list' },
          { op: 'quot', cmd: 'PWD' },
          { op: 'quot', cmd: 'USER', arg: destUser() },
          { op: 'quot', cmd: 'PWD' },
          { op: 'quot', cmd: 'PASS', arg: backend.password },
          { op: 'quot', cmd: 'PWD' },
          { op: 'quit' },
        ]);
        const [, pwd1, , cwd, list, pwd2, , pwd3, , pwd4] = session.steps;
        expectReply(pwd1, 530, 'Please login with USER and PASS');
        expectReply(cwd, 530, 'Access denied');
        expect(list?.ok).toBe(false);
        expectReply(list, 530, 'Access denied');
        expectReply(pwd2, 530, 'Access denied');
        expectReply(pwd3, 530, 'Please login with USER and PASS');
        expect(pwd4?.code).toBe(257);
      });
    }
  });

  // user@sni: the destination is the SNI name of the client's FTPS handshake (`host:port`).
  describe('user@sni', () => {
    const sniProxy = (
      key: string,
      pool: Record<string, unknown> = {},
      forward: Record<string, unknown> = {},
    ) =>
      forwardProxy(
        key,
        { method: 'user@sni', ...forward },
        // ProxyTLSVerifyServer off: the destination's certificate is not checked.
        { tls: { engine: 'auto', verifyServer: false }, ...pool },
        {
          tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }], sessionReuseRequired: false },
        },
      );
    const FTPS: NetFtpStep[] = [{ op: 'starttls' }, { op: 'prot', level: 'P' }];

    for (const [name, server] of [
      ['proxy_forward_noproxyauth_sni_login_backend_ftp', () => backend],
      ['proxy_forward_noproxyauth_sni_login_backend_ftps', () => tlsBackend],
    ] as const) {
      table.scenario(name, async () => {
        const session = await run(
          sniProxy('sni'),
          [...FTPS, { op: 'login', user: server().user, pass: server().password }, { op: 'quit' }],
          { sslHostname: `localhost:${server().port}` },
        );
        expectReply(session.steps[2], 230, `User ${server().user} logged in`);
      });
    }

    table.scenario('proxy_forward_noproxyauth_sni_login_failed_no_tls', async () => {
      const session = await run(sniProxy('sni'), [
        { op: 'login', user: backend.user, pass: backend.password },
        { op: 'quit' },
      ]);
      expect(session.steps[0]?.ok).toBe(false);
      expectReply(session.steps[0], 530, 'Login incorrect.');
    });

    table.scenario('proxy_forward_noproxyauth_sni_login_failed_no_tls_sni', async () => {
      // FTPS without an SNI name, as the suite's Net::FTPSSL connects.
      const session = await run(
        sniProxy('sni'),
        [...FTPS, { op: 'login', user: backend.user, pass: backend.password }, { op: 'quit' }],
        { sslHostname: '' },
      );
      expect(session.steps[2]?.ok).toBe(false);
      expectReply(session.steps[2], 530, 'Login incorrect.');
    });

    table.scenario('proxy_forward_noproxyauth_sni_login_failed_proxyforwardto_mismatch', async () => {
      const proxy = sniProxy('sni-forward-to', {}, { to: { pattern: '^localhost:21$' } });
      const session = await run(
        proxy,
        [...FTPS, { op: 'login', user: backend.user, pass: backend.password }, { op: 'quit' }],
        { sslHostname: `localhost:${backend.port}` },
      );
      expect(session.steps[2]?.ok).toBe(false);
      expect(session.steps[2]?.code).toBe(530);
    });
  });

  // mod_proxy/tls.pm: with ProxyTLSEngine MatchClient, a client on implicit FTPS gets an implicit FTPS
  // destination connection (the destination's vhost has TLSOptions UseImplicitSSL on a port of its own).
  describe('ProxyTLSEngine MatchClient, implicit FTPS', () => {
    table.scenario('proxy_forward_config_backend_tls_engine_match_client_ftps_implicit', async () => {
      const proxy = forwardProxy(
        'match-client-implicit',
        { method: 'user@host' },
        { tls: { engine: 'MatchClient', verifyServer: false, enableDiags: true } },
        {
          tls: {
            certificates: [{ cert: ca.server.cert, key: ca.server.key }],
            sessionReuseRequired: false,
            mode: 'implicit',
          },
        },
      );
      const session = await run(
        proxy,
        [
          {
            op: 'login',
            user: `${implicitBackend.user}@${dst(implicitBackend)}`,
            pass: implicitBackend.password,
          },
          { op: 'quit' },
        ],
        { tls: 'implicit' },
      );
      expect(session.connected).toBe(true);
      expectReply(session.steps[0], 230, `User ${implicitBackend.user} logged in`);
    });
  });
});
